import Foundation

/// Scores samples with every grader of a ``RewardSpec`` (graders run concurrently) and combines them.
///
/// ```swift
/// let scorer = try RewardScorer(spec: RewardSpec.load(URL(fileURLWithPath: "reward.json")))
/// defer { scorer.shutdown() }
/// let rewards = scorer.score(samples)   // [RewardResult], input order, per-grader components kept
/// ```
public final class RewardScorer: @unchecked Sendable {
    public let spec: RewardSpec
    /// One pool per spec entry, in spec order.
    public let pools: [GraderPool]

    /// - Throws: ``ManifestErrors`` for any invalid grader manifest, or a sandbox setup error.
    public init(spec: RewardSpec, options: GraderPool.Options = GraderPool.Options()) throws {
        self.spec = spec
        var pools: [GraderPool] = []
        do {
            for e in spec.entries { pools.append(try GraderPool(directory: e.directory, options: options)) }
        } catch {
            for p in pools { p.shutdown() }
            throw error
        }
        self.pools = pools
    }

    /// Scores and combines; thread-safe, never throws, one ``RewardResult`` per sample in input order.
    public func score(_ samples: [Sample]) -> [RewardResult] {
        var perGrader = [[SampleResult]](repeating: [], count: pools.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: pools.count) { g in
            let r = pools[g].score(samples)
            lock.lock(); perGrader[g] = r; lock.unlock()
        }
        return samples.indices.map { i in
            RewardAggregation.combine(id: samples[i].id, results: pools.indices.map { g in
                (spec.entries[g].name, spec.entries[g].weight, pools[g].manifest.onError, perGrader[g][i])
            })
        }
    }

    /// Scores without blocking the caller's thread.
    public func score(_ samples: [Sample]) async -> [RewardResult] {
        await withCheckedContinuation { (c: CheckedContinuation<[RewardResult], Never>) in
            DispatchQueue.global().async { c.resume(returning: self.score(samples)) }
        }
    }

    /// Shuts every pool down (idempotent).
    public func shutdown() { for p in pools { p.shutdown() } }
}

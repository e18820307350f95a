import Foundation

/// The parts of a job split to isolate a failing sample; records which of them failed as a whole
/// (guarded by the pool's lock).
final class SplitNode {
    var failed: [Bool]
    var succeeded: [Bool]
    /// A failed part waiting for the other parts' outcomes, with its error.
    var pending: (Job, GraderError)?
    init(parts: Int) { failed = Array(repeating: false, count: parts); succeeded = failed }
    func othersSucceeded(except i: Int) -> Bool { succeeded.indices.allSatisfy { $0 == i || succeeded[$0] } }
}

/// One batch on its way through the pool.
final class Job {
    let samples: [Sample]
    let indexes: [Int]
    let retriesLeft: Int
    let attempt: Int
    let collector: Collector
    /// Set on the parts of a split: the shared node and which part this is.
    let sibling: (node: SplitNode, index: Int)?
    /// Size of the batch this job was split from (0: not split).
    let isolated: Int

    init(samples: [Sample], indexes: [Int], retriesLeft: Int, attempt: Int, collector: Collector,
         sibling: (node: SplitNode, index: Int)? = nil, isolated: Int = 0) {
        self.samples = samples; self.indexes = indexes; self.retriesLeft = retriesLeft
        self.attempt = attempt; self.collector = collector; self.sibling = sibling; self.isolated = isolated
    }

    func finish(_ results: [SampleResult]) { collector.fill(indexes, results) }

    /// The retry: two halves (or the same single sample) with one retry fewer.
    func split() -> [Job] {
        if samples.count < 2 {
            return [Job(samples: samples, indexes: indexes, retriesLeft: retriesLeft - 1, attempt: attempt + 1, collector: collector,
                        isolated: isolated)]
        }
        let mid = samples.count / 2
        return [
            Job(samples: Array(samples[..<mid]), indexes: Array(indexes[..<mid]), retriesLeft: retriesLeft - 1,
                attempt: attempt + 1, collector: collector, isolated: max(isolated, samples.count)),
            Job(samples: Array(samples[mid...]), indexes: Array(indexes[mid...]), retriesLeft: retriesLeft - 1,
                attempt: attempt + 1, collector: collector, isolated: max(isolated, samples.count)),
        ]
    }

    /// Up to four parts that keep the retries: the search for the sample that failed the whole batch
    /// (four rather than two halves, so a sample that hangs costs log₄ n timeouts, not log₂ n).
    func isolate() -> [Job] {
        let parts = min(Job.isolationParts, samples.count), node = SplitNode(parts: parts), from = max(isolated, samples.count)
        return (0..<parts).map { k in
            let r = (samples.count * k / parts)..<(samples.count * (k + 1) / parts)
            return Job(samples: Array(samples[r]), indexes: Array(indexes[r]), retriesLeft: retriesLeft,
                       attempt: attempt + 1, collector: collector, sibling: (node, k), isolated: from)
        }
    }

    static let isolationParts = 4
}

/// Gathers exactly one result per input sample and wakes the caller when all are in.
final class Collector: @unchecked Sendable {
    private let cond = NSCondition()
    private let ids: [String]
    private var results: [SampleResult?]
    private var remaining: Int

    init(ids: [String]) {
        self.ids = ids
        results = Array(repeating: nil, count: ids.count)
        remaining = ids.count
    }

    func fill(_ indexes: [Int], _ batch: [SampleResult]) {
        cond.lock()
        for (k, i) in indexes.enumerated() where results[i] == nil {
            results[i] = k < batch.count ? batch[k] : .failed(ids[i], .crash, "no result was produced")
            remaining -= 1
        }
        if remaining == 0 { cond.broadcast() }
        cond.unlock()
    }

    func wait() -> [SampleResult] {
        cond.lock()
        while remaining > 0 { cond.wait() }
        cond.unlock()
        return results.map { $0! }
    }
}

import XCTest
@testable import TransformerModel

/// The model thread pool: a batch split across threads gives the same results as one thread
/// (to float rounding), the same bits on every run at a given thread count, and correct gradients.
final class ThreadTests: XCTestCase {
    static let config = ModelGradientTests.qwen3

    /// Log-probs and gradients of a GRPO-style loss on the shared-prompt batch, at `threads`.
    func pass(threads: Int, batch: TokenBatch = SharedPromptTests.batches().shared) throws -> (logp: [Float], grad: [Float]) {
        let model = ModelGradientTests.randomModel(Self.config, seed: 4)
        model.threads = threads
        let lp = try model.tokenLogProbs(batch)
        let d = lp.logProbs.enumerated().map { i, row in row.indices.map { Float(i + 1) * 0.1 - Float($0) * 0.05 } }
        // Two accumulating backward passes, as gradient accumulation over micro-batches does.
        try model.backward(batch, dLogProbs: d)
        _ = try model.tokenLogProbs(batch)
        try model.backward(batch, dLogProbs: d)
        return (Array(lp.logProbs.joined()), Array(model.gradients))
    }

    func testBatchSplitAcrossThreadsMatchesOneThread() throws {
        let one = try pass(threads: 1)
        for t in [2, 3, 16] {
            let many = try pass(threads: t)
            assertClose(many.logp, one.logp, accuracy: 1e-5)
            let scale = one.grad.map(abs).max()!
            for (a, b) in zip(many.grad, one.grad) { XCTAssertEqual(a, b, accuracy: 1e-5 * scale, "threads \(t)") }
        }
        let plain = try pass(threads: 3, batch: SharedPromptTests.batches().plain)
        assertClose(plain.logp, one.logp, accuracy: 1e-5)
    }

    func testSameThreadCountGivesTheSameBits() throws {
        for t in [1, 3] {
            let a = try pass(threads: t), b = try pass(threads: t)
            XCTAssertEqual(a.logp, b.logp)
            XCTAssertEqual(a.grad, b.grad)
        }
    }

    /// The reduced gradients of a batch split across threads pass the finite-difference check.
    func testThreadedGradientsMatchFiniteDifferences() throws {
        let model = ModelGradientTests.randomModel(Self.config, seed: 11)
        model.threads = 3
        let batch = ModelGradientTests.batch
        XCTAssertGreaterThan(try model.split(batch, keeping: true).packed.count, 1)
        try ModelGradientTests.checkLogProbGradients(Self.config, batch: batch, threads: 3)
    }

    /// Sampling split across sequences draws the same tokens at every thread count (uniforms
    /// are drawn in row order), with the same log-probs to rounding, and the same bits per count.
    func testSamplingIsDeterministicAcrossThreadCounts() throws {
        let config = ModelConfig(vocabSize: 13, dim: 16, nLayers: 2, nHeads: 4, nKVHeads: 2, ffnDim: 24, maxSeqLen: 24)
        let model = ModelGradientTests.randomModel(config, seed: 3)
        let prompts = [[1, 2, 3], [4], [5, 6, 7, 8, 9], [2, 2]]
        func run(_ threads: Int, _ options: SamplingOptions) throws -> [[Completion]] {
            model.threads = threads
            var rng = RandomGenerator(seed: 8)
            return try model.sample(prompts: prompts, completionsPerPrompt: 3, options: options, rng: &rng)
        }
        for options in [SamplingOptions(maxNewTokens: 8, temperature: 1, eosTokenIDs: [0]),
                        SamplingOptions(maxNewTokens: 8, temperature: 0.8, topK: 5, topP: 0.9),
                        SamplingOptions(maxNewTokens: 8, temperature: 0)] {
            let one = try run(1, options)
            for t in [2, 5] {
                let many = try run(t, options)
                XCTAssertEqual(many, try run(t, options))
                XCTAssertEqual(many.map { $0.map(\.tokens) }, one.map { $0.map(\.tokens) })
                assertClose(Array(many.joined().map(\.logProbs).joined()), Array(one.joined().map(\.logProbs).joined()))
            }
        }
    }

    func testSplitIsContiguousBalancedAndStable() {
        let w = [5, 1, 1, 1, 1, 1, 5, 1]
        let r = ModelThreads.split(w.count, parts: 3) { w[$0] }
        XCTAssertEqual(r, ModelThreads.split(w.count, parts: 3) { w[$0] })
        XCTAssertEqual(r.count, 3)
        XCTAssertEqual(r.first?.lowerBound, 0); XCTAssertEqual(r.last?.upperBound, w.count)
        for (a, b) in zip(r, r.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
        XCTAssertTrue(r.allSatisfy { !$0.isEmpty })
        XCTAssertEqual(ModelThreads.split(2, parts: 8).count, 2)
        XCTAssertEqual(ModelThreads.evenRanges(10, parts: 3), [0..<3, 3..<6, 6..<10])
    }

    /// The default thread count honours a cgroup CPU quota (v2 `cpu.max`, v1 CFS) below the CPU count.
    func testCgroupQuotaLimitsTheCoreCount() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-cgroup-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("v2/job/inner"), withIntermediateDirectories: true)
        try "max 100000\n".write(to: dir.appendingPathComponent("v2/job/inner/cpu.max"), atomically: true, encoding: .utf8)
        try "150000 100000\n".write(to: dir.appendingPathComponent("v2/job/cpu.max"), atomically: true, encoding: .utf8)
        try "0::/job/inner\n".write(to: dir.appendingPathComponent("cg2"), atomically: true, encoding: .utf8)
        XCTAssertEqual(ModelThreads.cgroupQuota(root: dir.path + "/v2", procSelfCgroup: dir.path + "/cg2"), 1.5)

        try fm.createDirectory(at: dir.appendingPathComponent("v1/cpu,cpuacct/box"), withIntermediateDirectories: true)
        try "-1\n".write(to: dir.appendingPathComponent("v1/cpu,cpuacct/cpu.cfs_quota_us"), atomically: true, encoding: .utf8)
        try "300000\n".write(to: dir.appendingPathComponent("v1/cpu,cpuacct/box/cpu.cfs_quota_us"), atomically: true, encoding: .utf8)
        try "100000\n".write(to: dir.appendingPathComponent("v1/cpu,cpuacct/box/cpu.cfs_period_us"), atomically: true, encoding: .utf8)
        try "4:cpu,cpuacct:/box\n0::/\n".write(to: dir.appendingPathComponent("cg1"), atomically: true, encoding: .utf8)
        XCTAssertEqual(ModelThreads.cgroupQuota(root: dir.path + "/v1", procSelfCgroup: dir.path + "/cg1"), 3)
        XCTAssertNil(ModelThreads.cgroupQuota(root: dir.path + "/none", procSelfCgroup: dir.path + "/cg1"))

        XCTAssertGreaterThanOrEqual(ModelThreads.availableCores(), 1)
        XCTAssertLessThanOrEqual(ModelThreads.availableCores(), ProcessInfo.processInfo.activeProcessorCount)
    }
}

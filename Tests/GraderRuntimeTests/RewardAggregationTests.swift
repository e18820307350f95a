import XCTest
@testable import GraderRuntime

final class RewardAggregationTests: XCTestCase {
    typealias R = (grader: String, weight: Double, onError: GraderManifest.OnError, result: SampleResult)

    private func combine(_ rs: [R]) -> RewardResult { RewardAggregation.combine(id: "x", results: rs) }
    private func scored(_ v: Double) -> SampleResult { SampleResult(id: "x", outcome: .scored(v)) }
    private let abstain = SampleResult(id: "x", outcome: .abstained)
    private let failed = SampleResult.failed("x", .timeout, "slow")

    func testWeightedSum() {
        let r = combine([("a", 1, .zero, scored(1)), ("b", 0.5, .zero, scored(0.4))])
        XCTAssertEqual(r.reward!, 1.2, accuracy: 1e-12)
        XCTAssertEqual(r.components.map(\.counted), [1, 0.4])
    }

    func testAbstentionRenormalisesTheWeights() {
        // b abstains: a's weighted score is scaled by (|1| + |3|) / |1|.
        let r = combine([("a", 1, .zero, scored(0.5)), ("b", 3, .zero, abstain)])
        XCTAssertEqual(r.reward!, 2.0, accuracy: 1e-12)
        XCTAssertFalse(r.abstained)
        XCTAssertNil(r.components[1].counted)
    }

    func testEveryoneAbstainingMarksTheSampleAbstained() {
        let r = combine([("a", 1, .skip, failed), ("b", 1, .zero, abstain), ("metric-only", 0, .zero, scored(1))])
        XCTAssertTrue(r.abstained)
        XCTAssertNil(r.reward)
        XCTAssertTrue(r.json.jsonString.contains(#""aggregate_reward_score":null"#))
    }

    func testOnErrorPolicies() {
        XCTAssertEqual(combine([("a", 1, .zero, failed), ("b", 1, .zero, scored(1))]).reward!, 1, accuracy: 1e-12)
        XCTAssertEqual(combine([("a", 1, .skip, failed), ("b", 1, .zero, scored(1))]).reward!, 2, accuracy: 1e-12)
        let f = combine([("a", 1, .fail, failed), ("b", 1, .zero, scored(1))])
        XCTAssertNil(f.reward)
        XCTAssertEqual(f.error?.type, .timeout)
        XCTAssertTrue(f.error!.message.hasPrefix("grader a:"))
    }

    func testNaNNeverReachesTheSum() {
        let r = combine([("a", 1, .zero, scored(.nan)), ("b", 1, .zero, scored(0.5))])
        XCTAssertEqual(r.reward!, 1.0, accuracy: 1e-12)
    }

    func testComponentsAppearAsRewardMetrics() {
        var inner = scored(1)
        inner.metrics = [Metric(name: "acc", value: 1, type: "Reward")]
        let r = combine([("math", 1, .zero, inner), ("format", 0.5, .zero, scored(0))])
        XCTAssertEqual(r.json.jsonString,
                       #"{"id":"x","aggregate_reward_score":1,"metrics_list":[{"name":"math","value":1,"type":"Reward"},{"name":"math/acc","value":1,"type":"Reward"},{"name":"format","value":0,"type":"Reward"}]}"#)
    }

    func testSpecValidation() throws {
        let dir = URL(fileURLWithPath: "/tmp")
        XCTAssertThrowsError(try RewardSpec(entries: [])) { XCTAssertTrue("\($0)".contains("graders: must list at least one grader")) }
        XCTAssertThrowsError(try RewardSpec(entries: [.init(name: "a", directory: dir), .init(name: "a", directory: dir)])) {
            XCTAssertTrue("\($0)".contains("graders[1].name: duplicate grader name \"a\""), "\($0)")
        }
        XCTAssertThrowsError(try RewardSpec(entries: [.init(name: "a", directory: dir, weight: .nan)])) {
            XCTAssertTrue("\($0)".contains("graders[0].weight: must be a finite number"))
        }
    }
}

/// Several real graders combined through a reward spec file.
final class SandboxScorerTests: XCTestCase {
    func testSpecFileCombinesGradersAndKeepsComponents() throws {
        let exact = try Fixture.python("""
            def lambda_handler(event, context):
                return [{"id": s["id"], "aggregate_reward_score": 1.0 if s["messages"][-1]["content"] == s["reference_answer"] else 0.0}
                        for s in event]
            """)
        let picky = try Fixture.python("""
            def fn(prompts, completions, **kw):
                return [None if c[0]["content"] == "skip" else 0.5 for c in completions]
            """, contract: "trl")
        let specDir = Fixture.scratch.appendingPathComponent("spec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: specDir, withIntermediateDirectories: true)
        let spec = specDir.appendingPathComponent("reward.json")
        try #"{"graders": [{"path": "\#(exact.path)", "weight": 1, "name": "exact"}, {"path": "\#(picky.path)", "weight": 3, "name": "picky"}]}"#
            .write(to: spec, atomically: true, encoding: .utf8)

        let scorer = try SandboxScorer(spec: RewardSpec.load(spec))
        defer { scorer.shutdown() }
        let r = try scorer.score([Fixture.sample("a", "4", reference: "4"), Fixture.sample("b", "skip", reference: "skip")], grader: "reward")
        XCTAssertEqual(r[0].reward!, 1 * 1 + 3 * 0.5, accuracy: 1e-12)
        // picky abstains on b: exact's 1 is renormalised by (1 + 3) / 1.
        XCTAssertEqual(r[1].reward!, 4, accuracy: 1e-12)
        XCTAssertEqual(r[1].components.map(\.grader), ["exact", "picky"])
        XCTAssertEqual(r[1].components[1].result.outcome, .abstained)
        XCTAssertThrowsError(try RewardSpec.load(specDir.appendingPathComponent("missing.json")))
    }
}

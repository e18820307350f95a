import XCTest
import GraderRuntime
import TransformerModel
@testable import GRPOTrainer

final class DataTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ text: String) -> String {
        let p = dir.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    func testValidateReportsLineAndField() throws {
        let path = write("t.jsonl", """
        {"messages": [{"role": "user", "content": "2+2?"}], "reference_answer": "4"}
        not json
        {"messages": [{"role": "robot", "content": "x"}]}
        {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
        {"id": 7, "messages": [{"role": "system", "content": "s"}, {"role": "user"}]}

        {"id": "q", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}], "metadata": {"reference_answer": 1}}
        {"id": "q", "messages": [{"role": "user", "content": "dup"}]}
        """)
        let r = try PromptDataset.validate(path)
        XCTAssertEqual(r.records.map(\.id), ["line-1", "q"])
        XCTAssertEqual(r.records[1].messages[0].content, "hi")
        XCTAssertEqual(r.records[1].referenceAnswer, 1)
        let errors = r.errors.map { "\($0.line ?? 0) \($0.field ?? "-")" }
        XCTAssertEqual(errors, ["2 -", "3 messages[0].role", "4 messages[1].role", "5 messages[1].content", "8 id"])
        XCTAssertTrue(r.errors[4].description.contains("t.jsonl:8"), r.errors[4].description)
        XCTAssertTrue(r.warnings.contains { $0.message.contains("Bedrock accepts 100 to 20,000") })
        XCTAssertThrowsError(try PromptDataset.load(path)) { XCTAssertTrue("\($0)".contains(":2:")) }
    }

    func testSizeWarningsOnlyOutsideBedrockRange() throws {
        let line = #"{"messages": [{"role": "user", "content": "q"}], "reference_answer": "a"}"#
        let ok = try PromptDataset.validate(write("ok.jsonl", Array(repeating: line, count: 150).joined(separator: "\n")))
        XCTAssertTrue(ok.issues.isEmpty, "\(ok.issues)")
    }

    func testGraderSampleAppendsAssistantTurn() {
        let rec = PromptRecord(id: "p1", messages: [ChatMessage(role: "user", content: "1+1?")], referenceAnswer: "2",
                               raw: ["messages": [], "reference_answer": "2", "topic": "math"])
        let s = rec.graderSample(id: "p1/3", completion: "2")
        XCTAssertEqual(s["id"], "p1/3")
        XCTAssertEqual(s["topic"], "math")
        XCTAssertEqual(s["messages"]?.arrayValue?.last, ["role": "assistant", "content": "2"])
    }

    func testInvocationLogsConversion() throws {
        let converse = #"{"schemaType": "ModelInvocationLog", "requestId": "r1", "modelId": "amazon.nova-lite-v1:0", "operation": "Converse", "requestMetadata": {"team": "math"}, "input": {"inputBodyJson": {"system": [{"text": "Be brief."}], "messages": [{"role": "user", "content": [{"text": "What is 2+3?"}]}]}}, "output": {"outputBodyJson": {"output": {"message": {"role": "assistant", "content": [{"text": "5"}]}}}}}"#
        let anthropic = #"{"requestId": "r2", "requestMetadata": {"team": "math"}, "input": {"inputBodyJson": {"system": "sys", "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]}}, "output": {"outputBodyJson": {"content": [{"type": "text", "text": "Hello"}]}}}"#
        let other = #"{"requestId": "r3", "requestMetadata": {"team": "web"}, "input": {"inputBodyJson": {"messages": [{"role": "user", "content": "x"}]}}}"#
        let noOutput = #"{"requestId": "r4", "requestMetadata": {"team": "math"}, "input": {"inputBodyJson": {"prompt": "p"}}}"#
        let path = write("logs.jsonl", [converse, anthropic, other, noOutput, converse].joined(separator: "\n"))
        let c = try InvocationLogs.convert(paths: [path], filters: ["team": "math"], requireOutput: true)
        XCTAssertEqual(c.read, 5)
        XCTAssertEqual(c.records.count, 2)
        XCTAssertEqual(c.records[0]["messages"], [["role": "system", "content": "Be brief."], ["role": "user", "content": "What is 2+3?"]])
        XCTAssertEqual(c.records[0]["reference_answer"], "5")
        XCTAssertEqual(c.records[0]["id"], "r1")
        XCTAssertEqual(c.records[1]["reference_answer"], "Hello")
        XCTAssertEqual(c.skipped, ["filtered out by requestMetadata": 1, "no model output": 1, "duplicate prompt": 1])
        // The output passes validation.
        let out = write("out.jsonl", c.records.map { $0.jsonString(sortedKeys: true) }.joined(separator: "\n"))
        XCTAssertTrue(try PromptDataset.validate(out).errors.isEmpty)
    }
}

final class MonitorTests: XCTestCase {
    func obs(_ step: Int, _ r: Double, std: Double = 0.3, val: Double? = nil, err: Double = 0) -> StepObservation {
        StepObservation(step: step, reward: r, rewardStd: std, allRewardsZero: r == 0, graderErrorRate: err, valReward: val)
    }

    func testPlateauBelowThreshold() {
        var m = TrainingMonitor(window: 5)
        var kinds: [MonitorWarning.Kind] = []
        for s in 1...12 { kinds += m.observe(obs(s, 0.1)).map(\.kind) }
        XCTAssertEqual(kinds, [.rewardPlateau])
        // A rising reward is not a plateau.
        var rising = TrainingMonitor(window: 5)
        for s in 1...12 { XCTAssertTrue(rising.observe(obs(s, 0.01 * Double(s))).isEmpty) }
    }

    func testAllZeroAndGraderErrors() {
        var m = TrainingMonitor(window: 5, errorThreshold: 0.05)
        XCTAssertEqual(m.observe(obs(1, 0)).map(\.kind), [.allRewardsZero])
        XCTAssertTrue(m.observe(obs(2, 0)).isEmpty, "fires once per window")
        XCTAssertEqual(m.observe(obs(3, 0.5, err: 0.2)).map(\.kind), [.graderErrorRate])
    }

    func testRisingVarianceOverfittingAndDecline() {
        var m = TrainingMonitor(window: 3)
        var kinds: [MonitorWarning.Kind] = []
        for s in 1...6 { kinds += m.observe(obs(s, 0.5, std: s <= 3 ? 0.1 : 0.4)).map(\.kind) }
        XCTAssertEqual(kinds, [.rewardVarianceRising])

        var o = TrainingMonitor(window: 2)
        let train = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8], vals = [0.5, 0.45, 0.4]
        kinds = []
        for (i, r) in train.enumerated() {
            kinds += o.observe(obs(i + 1, r, val: i % 2 == 1 ? vals[i / 2] : nil)).map(\.kind)
        }
        XCTAssertEqual(kinds, [.overfitting])

        var d = TrainingMonitor(window: 2)
        kinds = []
        for (i, v) in [0.5, 0.45, 0.4].enumerated() { kinds += d.observe(obs(i + 1, 0.5, val: v)).map(\.kind) }
        XCTAssertEqual(kinds, [.validationDeclining])
    }
}

final class RunDirectoryTests: XCTestCase {
    func testSummaryAndMetricsFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = RunDirectory(path)
        try run.create()
        var s = RunSummary(totalSteps: 10)
        s.steps = 4; s.baselineValReward = 0.2
        try run.writeSummary(s)
        let text = try String(contentsOf: run.summaryURL, encoding: .utf8)
        for key in ["\"status\" : \"InProgress\"", "\"steps\" : 4", "\"baseline_val_reward\" : 0.2",
                    "\"final_val_reward\" : null", "\"best_checkpoint\" : null"] {
            XCTAssertTrue(text.contains(key), text)
        }
        XCTAssertEqual(try run.readSummary().steps, 4)
        XCTAssertFalse(try run.readSummary().isStale, "this process is alive")
        try run.append((1...5).map { ["step": .number(Double($0)), "reward": 0.5] }, to: "metrics.jsonl")
        try run.truncate("metrics.jsonl", afterStep: 3)
        XCTAssertEqual(run.readLines("metrics.jsonl").map { $0["step"]!.doubleValue! }, [1, 2, 3])
        XCTAssertEqual(RunDirectory.list(root: URL(fileURLWithPath: path).deletingLastPathComponent().path)
                        .contains { $0.path == run.path }, true)
    }
}

import ArgumentParser
import Foundation
import GraderRuntime
import JSON
import RewardServer

/// `rft bench serve-rewards`: the reward server under load against the in-process runtime.
struct BenchServeRewardsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-rewards",
        abstract: "Load-test the reward server on loopback; ratio against the in-process runtime on the same batches.",
        discussion: """
        Starts the reward server on 127.0.0.1 (ephemeral port) over the grader, then --clients threads each
        POST batches of --batch samples to /v1/graders/{name}/invoke over keep-alive connections for
        --seconds. A 429 is retried after its Retry-After. Every response must answer each sample of its
        batch exactly once with a score; any 5xx or mismatch fails the run (exit 1).
        The baseline, measured in the same run, sends the same batches from the same number of concurrent
        callers straight to the runtime (no HTTP). ratio = server samples/s / in-process samples/s.
        Build with -c release for real figures.

        Example:
          rft bench serve-rewards --graders graders/trivial --clients 32 --batch 64 --seconds 30 --json
        """
    )

    @Option(help: "A grader directory (or anything `rft serve-rewards --graders` takes).") var graders: String
    @Option(help: "The grader to call (default: the first served).") var grader: String?
    @Option(help: "Concurrent clients.") var clients = 32
    @Option(help: "Samples per request.") var batch = 64
    @Option(help: "Seconds of server load.") var seconds: Double = 30
    @Option(help: "Seconds of in-process baseline (half before, half after the server load).") var baselineSeconds: Double = 10
    @Flag(help: "Print the figures as one JSON object.") var json = false

    func run() throws {
        let conditions = BenchConditions.now()
        guard clients > 0, batch > 0, seconds > 0, baselineSeconds > 0 else { throw ValidationError("counts and durations must be positive") }
        let scorer: SandboxScorer
        do { scorer = try SandboxScorer(path: URL(fileURLWithPath: graders)) } catch { throw ServeError("\(error)") }
        defer { scorer.shutdown() }
        let name = grader ?? scorer.graders[0].name
        let clients = self.clients, batch = self.batch, seconds = self.seconds, baselineSeconds = self.baselineSeconds

        // Warm every worker. The in-process baseline runs half before and half after the server load,
        // so drift in the machine's load affects both sides alike: the same batches, the same
        // concurrency, no HTTP.
        _ = try blockingScore(scorer, name, Self.batch(client: 0, seq: 0, size: batch).samples)
        let inProcess: @Sendable (Int, Int) throws -> Tally = { c, k in
            let b = Self.batch(client: c, seq: k, size: batch)
            let t0 = DispatchTime.now().uptimeNanoseconds
            let out = try blockingScore(scorer, name, b.samples)
            let ok = out.count == b.ids.count && zip(out, b.ids).allSatisfy { $0["id"]?.stringValue == $1 && $0["aggregate_reward_score"]?.doubleValue != nil }
            return .init(samples: ok ? b.ids.count : 0, mismatched: ok ? 0 : 1, latencyMs: ms(since: t0))
        }
        var baseline = try Self.drive(clients: clients, seconds: baselineSeconds / 2, inProcess)

        // The server, loaded over loopback.
        var config = ServerConfiguration()
        config.host = "127.0.0.1"
        config.port = 0
        let server = RewardServer(scorer: scorer, configuration: config)
        let running = try blockingStart(server)
        defer { try? blockingShutdown(running) }
        let path = "/v1/graders/\(name)/invoke"
        let connections = (0..<clients).map { _ in LoopbackHTTPClient(port: running.port) }
        let loaded = try Self.drive(clients: clients, seconds: seconds) { c, k in
            // The load generator must not hide the server's cost on a 2-core machine: the body is spliced
            // from pre-encoded samples, and the answer is checked by scanning its bytes (every id of the
            // batch once, in order, each with a number score) rather than by building a JSON tree.
            let ids = (0..<batch).map { "c\(c)-\(k)-\($0)" }
            let body = Self.encodedBatch(ids: ids)
            let t0 = DispatchTime.now().uptimeNanoseconds
            var result = Tally()
            while true {
                let r = try connections[c].post(path, body: body)
                result.statuses[r.status, default: 0] += 1
                if r.status == 429 {
                    Thread.sleep(forTimeInterval: Double(r.headers["retry-after"] ?? "1") ?? 1)
                    continue
                }
                let ok = r.status == 200 && Self.answersEachOnce(r.body, ids: ids)
                result.samples = ok ? ids.count : 0
                result.mismatched = ok ? 0 : 1
                break
            }
            result.latencyMs = ms(since: t0)
            return result
        }
        connections.forEach { $0.close() }
        baseline.add(try Self.drive(clients: clients, seconds: baselineSeconds / 2, inProcess))

        let fiveXX = loaded.statuses.filter { $0.key >= 500 }.values.reduce(0, +)
        let ratio = loaded.samplesPerSecond / baseline.samplesPerSecond
        let report: JSONValue = [
            "grader": .string(name), "clients": .number(Double(clients)), "batch": .number(Double(batch)),
            "seconds": .number(loaded.seconds), "requests": .number(Double(loaded.requests)),
            "samples": .number(Double(loaded.samples)),
            "samples_per_s": .number(loaded.samplesPerSecond.rounded()),
            "p50_ms": .number(round2(loaded.percentile(0.5))), "p99_ms": .number(round2(loaded.percentile(0.99))),
            "status_counts": .object(JSONObject(loaded.statuses.sorted { $0.key < $1.key }.map { (String($0.key), .number(Double($0.value))) })),
            "responses_5xx": .number(Double(fiveXX)), "mismatched": .number(Double(loaded.mismatched)),
            "inprocess_samples_per_s": .number(baseline.samplesPerSecond.rounded()),
            "inprocess_p50_ms": .number(round2(baseline.percentile(0.5))), "inprocess_p99_ms": .number(round2(baseline.percentile(0.99))),
            "ratio": .number(round3(ratio)), "conditions": conditions.json,
        ]
        if json {
            print(report.jsonString)
        } else {
            print(conditions.line)
            print("""
            reward server, \(clients) clients x \(batch)-sample batches for \(String(format: "%.1f", loaded.seconds)) s (grader \(name))
              server:     \(Int(loaded.samplesPerSecond)) samples/s  p50 \(round2(loaded.percentile(0.5))) ms  p99 \(round2(loaded.percentile(0.99))) ms  (\(loaded.requests) requests)
              in-process: \(Int(baseline.samplesPerSecond)) samples/s  p50 \(round2(baseline.percentile(0.5))) ms  p99 \(round2(baseline.percentile(0.99))) ms
              ratio \(round3(ratio))   statuses \(loaded.statuses.sorted { $0.key < $1.key })   5xx \(fiveXX)   mismatched \(loaded.mismatched)
            """)
        }
        if fiveXX > 0 || loaded.mismatched > 0 || baseline.mismatched > 0 { throw ExitCode(1) }
    }

    // MARK: - Load generation

    struct Tally {
        var samples = 0
        var mismatched = 0
        var latencyMs = 0.0
        var statuses: [Int: Int] = [:]
    }

    struct Totals {
        var seconds = 0.0
        var requests = 0
        var samples = 0
        var mismatched = 0
        var latencies: [Double] = []
        var statuses: [Int: Int] = [:]
        var samplesPerSecond: Double { Double(samples) / seconds }
        mutating func add(_ o: Totals) {
            seconds += o.seconds; requests += o.requests; samples += o.samples; mismatched += o.mismatched
            latencies += o.latencies
            for (s, n) in o.statuses { statuses[s, default: 0] += n }
        }
        func percentile(_ p: Double) -> Double {
            let s = latencies.sorted()
            return s.isEmpty ? 0 : s[min(s.count - 1, Int(Double(s.count) * p))]
        }
    }

    /// Runs `body(client, sequence)` on `clients` threads until `seconds` have passed.
    static func drive(clients: Int, seconds: Double, _ body: @escaping @Sendable (Int, Int) throws -> Tally) throws -> Totals {
        final class Shared: @unchecked Sendable {
            let lock = NSLock()
            var totals = Totals()
            var error: Error?
        }
        let shared = Shared()
        let group = DispatchGroup()
        let start = DispatchTime.now().uptimeNanoseconds
        let end = start + UInt64(seconds * 1e9)
        for c in 0..<clients {
            group.enter()
            let t = Thread {
                var k = 0
                var local = Totals()
                do {
                    while DispatchTime.now().uptimeNanoseconds < end {
                        let r = try body(c, k)
                        k += 1
                        local.requests += 1
                        local.samples += r.samples
                        local.mismatched += r.mismatched
                        local.latencies.append(r.latencyMs)
                        for (s, n) in r.statuses { local.statuses[s, default: 0] += n }
                    }
                } catch {
                    shared.lock.withLock { shared.error = error }
                }
                shared.lock.withLock {
                    shared.totals.requests += local.requests
                    shared.totals.samples += local.samples
                    shared.totals.mismatched += local.mismatched
                    shared.totals.latencies += local.latencies
                    for (s, n) in local.statuses { shared.totals.statuses[s, default: 0] += n }
                }
                group.leave()
            }
            t.stackSize = 1 << 20
            t.start()
        }
        group.wait()
        if let error = shared.error { throw ServeError("load client failed: \(error)") }
        var totals = shared.totals
        totals.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return totals
    }

    /// The JSON body of `batch(client:seq:size:)`, spliced from two pre-encoded sample tails.
    static func encodedBatch(ids: [String]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(ids.count * (sampleTails[1].count + 24))
        for (i, id) in ids.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"id":""#.utf8)
            out.append(contentsOf: id.utf8)
            out.append(contentsOf: sampleTails[i % 5 == 0 ? 0 : 1])
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// Everything after a sample's id, as `JSONValue` writes it for `batch(client:seq:size:)`.
    static let sampleTails: [[UInt8]] = ["", "2 + 2 = 4"].map { answer in
        let full = Sample(id: "X", messages: [("user", "What is 2 + 2?"), ("assistant", answer)], referenceAnswer: "4")
        let bytes = JSONValue.object(full.record).jsonBytes()
        return Array(bytes.dropFirst(#"{"id":"X"#.utf8.count))
    }

    /// Whether an output list answers exactly `ids`, in order, each once with a numeric score.
    static func answersEachOnce(_ body: [UInt8], ids: [String]) -> Bool {
        let idKey = Array(#"{"id":""#.utf8), scoreKey = Array(#""aggregate_reward_score":"#.utf8)
        var found: [String] = [], scores = 0, i = 0
        while i + scoreKey.count <= body.count {
            if body[i] == UInt8(ascii: "{"), body[i..<i + idKey.count].elementsEqual(idKey) {
                var j = i + idKey.count
                while j < body.count, body[j] != UInt8(ascii: "\"") { j += 1 }
                found.append(String(decoding: body[(i + idKey.count)..<j], as: UTF8.self))
                i = j
            } else if body[i] == UInt8(ascii: "\""), body[i..<i + scoreKey.count].elementsEqual(scoreKey) {
                let next = body[i + scoreKey.count]
                if next == UInt8(ascii: "-") || (next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9")) { scores += 1 }
                i += scoreKey.count
            }
            i += 1
        }
        return found == ids && scores == ids.count
    }

    /// Batch `seq` of client `client`: unique ids, a short chat with the generated answer.
    static func batch(client: Int, seq: Int, size: Int) -> (samples: [Sample], ids: [String]) {
        let ids = (0..<size).map { "c\(client)-\(seq)-\($0)" }
        let samples = ids.enumerated().map { i, id in
            Sample(id: id, messages: [("user", "What is 2 + 2?"), ("assistant", i % 5 == 0 ? "" : "2 + 2 = 4")], referenceAnswer: "4")
        }
        return (samples, ids)
    }
}

private func ms(since t0: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 }
private func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }
private func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

/// Runs async work from a plain thread and waits for it.
private func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

private final class ResultBox<T>: @unchecked Sendable { var result: Result<T, Error>? }

private func blockingScore(_ scorer: SandboxScorer, _ name: String, _ samples: [Sample]) throws -> [JSONValue] {
    try blocking { try await scorer.score(samples, grader: name).map(\.json) }
}

private func blockingStart(_ server: RewardServer) throws -> RunningServer { try blocking { try await server.start() } }
private func blockingShutdown(_ running: RunningServer) throws { try blocking { try await running.shutdown() } }

import ArgumentParser
import Foundation
import GraderRuntime
#if canImport(Glibc)
import Glibc
import JSON
#endif

/// `rft grader bench DIR`: throughput and latency against the same handler called in-process.
struct GraderBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark a grader: samples/s, p50/p99 batch latency, cold start, and the ratio to an in-process loop.",
        discussion: """
        The baseline, measured in the same run, is the same handler called through the same contract adapter \
        by a minimal Python loop over the same JSON batches (json.loads, call, json.dumps; no sandbox, no IPC). \
        ratio = samples_per_s / inprocess_samples_per_s. cold_start_ms is the median time from spawning a \
        sandboxed worker to its handler being imported; the text report also shows Python's own start-up. \
        Samples come from DIR/cases.jsonl, repeated to --samples. Build with -c release for real figures.

        Example:
          rft grader bench graders/trivial --samples 20000 --json
        """
    )

    @Argument(help: "The grader directory.") var directory: String
    @Option(help: "Samples to score in the timed run.") var samples = 10_000
    @Option(help: "Cold starts to measure (the median is reported).") var coldStarts = 15
    @Option(help: "Timed rounds of each side, alternating (the median is reported).") var rounds = 7
    @Flag(help: "Print {samples_per_s, inprocess_samples_per_s, ratio, p50_ms, p99_ms, cold_start_ms}.") var json = false

    @OptionGroup var degraded: DegradedModeOption

    func run() throws {
        let conditions = BenchConditions.now()
        degraded.apply()
        var (manifest, url) = try loadManifest(directory)
        let data = try benchSamples(url, count: max(1, samples))
        // The whole set is submitted at once: let the queue hold it (throttling is not what is measured).
        manifest.queueLimit = max(manifest.queueLimit, data.count / manifest.batchSize + 1)

        let latencies = LatencyLog()
        let pool = try GraderPool(manifest: manifest, directory: url,
                                  options: .init(prewarm: true, onBatch: { latencies.add($0.wallMs) }))
        defer { pool.shutdown() }

        // Let the pool's own workers finish starting, so they do not compete with the measurements.
        _ = pool.score(Array(data.prefix(manifest.batchSize * manifest.concurrency * 2)))

        // Cold starts, interleaved with the baseline (Python's own start-up, plain posix_spawn, no sandbox)
        // so both see the same machine load.
        guard case .success(let firstStart) = pool.measureColdStart() else {
            if case .failure(let e) = pool.measureColdStart() { printError("\(manifest.name): \(e)") }
            throw ExitCode(1)
        }
        var colds: [Double] = [], pythonStartups: [Double] = []
        for _ in 0..<coldStarts {
            if let t = timeSpawn([PythonBootstrap.interpreter, "-I", "-B", "-c", "pass"]) { pythonStartups.append(t) }
            switch pool.measureColdStart() {
            case .success(let ms): colds.append(ms)
            case .failure(let e): printError("\(manifest.name): \(e)"); throw ExitCode(1)
            }
        }
        let pythonStartup = median(pythonStartups)

        // Throughput: alternate timed runs of rft and of the in-process loop.
        var rates: [Double] = [], inprocessRates: [Double] = []
        var allLatencies: [Double] = []
        var runtimeCPUus: [Double] = []  // rft's own CPU per sample (all its threads), the workers excluded
        for _ in 0..<max(1, rounds) {
            latencies.reset()
            let cpu0 = processCPUSeconds()
            let start = DispatchTime.now().uptimeNanoseconds
            let results = pool.score(data)
            rates.append(Double(data.count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
            runtimeCPUus.append((processCPUSeconds() - cpu0) * 1e6 / Double(data.count))
            allLatencies += latencies.sorted()
            let failed = results.filter { $0.error != nil }
            if let first = failed.first?.error {
                printError("\(failed.count) of \(results.count) samples failed; first: \(first)")
            }
            // A grader that runs code through the exec service has no in-process equivalent (no service there).
            if manifest.runtime == .python && manifest.exec == nil {
                inprocessRates.append(try inProcess(manifest: manifest, url: url, samples: data))
            }
        }
        // The median round on both sides: rounds alternate, so both see the same machine load.
        let throughput = median(rates)
        let inprocess = inprocessRates.isEmpty ? nil : median(inprocessRates)

        let lat = allLatencies.sorted()
        let p50 = percentile(lat, 0.50), p99 = percentile(lat, 0.99)
        let cold = median(colds)
        if json {
            var o = JSONObject()
            o["samples_per_s"] = .number(throughput)
            o["inprocess_samples_per_s"] = inprocess.map(JSONValue.number) ?? .null
            o["ratio"] = inprocess.map { .number(throughput / $0) } ?? .null
            o["p50_ms"] = .number(p50)
            o["p99_ms"] = .number(p99)
            o["cold_start_ms"] = .number(cold)
            o["conditions"] = conditions.json
            print(JSONValue.object(o).jsonString)
        } else {
            print(conditions.line)
            print("grader            \(manifest.name) (\(manifest.runtime.rawValue)/\(manifest.contract.rawValue), concurrency \(manifest.concurrency), batch_size \(manifest.batchSize))")
            print("samples           \(data.count)")
            print(String(format: "rft samples/s     %.0f", throughput))
            if let inprocess {
                print(String(format: "in-process /s     %.0f", inprocess))
                print(String(format: "ratio             %.2f", throughput / inprocess))
            }
            print(String(format: "batch p50 / p99   %.2f / %.2f ms", p50, p99))
            print(String(format: "rft CPU/sample    %.2f µs (encode, frames, checking; workers excluded)", median(runtimeCPUus)))
            print(String(format: "cold start        %.1f ms median of %d (python start-up %.1f ms, +%.1f ms)", cold, colds.count, pythonStartup, cold - pythonStartup))
            print("rounds            rft " + rates.map { String(format: "%.0f", $0) }.joined(separator: ", ") + (inprocessRates.isEmpty ? "" : "; in-process " + inprocessRates.map { String(format: "%.0f", $0) }.joined(separator: ", ")))
            print(String(format: "first start       %.1f ms (with the sandbox slot's one-time setup)", firstStart))
        }
    }

    private func benchSamples(_ url: URL, count: Int) throws -> [Sample] {
        var base: [JSONObject] = []
        let casesPath = url.appendingPathComponent("cases.jsonl").path
        if let d = FileManager.default.contents(atPath: casesPath), let cases = try? Sample.read(Array(d), source: casesPath) {
            base = cases.map { var r = $0.record; r["expected_score"] = nil; r["tolerance"] = nil; r["expected_error"] = nil; return r }
        }
        if base.isEmpty {
            base = [Sample(id: "x", messages: [("user", "What is 2 + 2?"), ("assistant", "2 + 2 = 4")], referenceAnswer: "4").record]
        }
        return (0..<count).map { i in
            var r = base[i % base.count]
            r["id"] = .string("s\(i)")
            return Sample(record: r, defaultID: "s\(i)")
        }
    }

    private func inProcess(manifest: GraderManifest, url: URL, samples: [Sample]) throws -> Double {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rft-bench-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(JSONValue.array(samples.map { .object($0.record) }).jsonBytes()).write(to: file)
        let argv = PythonBootstrap.inProcessArgv(directory: url.standardizedFileURL.path, manifest: manifest,
                                                 samplesFile: file.path, batchSize: manifest.batchSize)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let bytes = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let v = try? JSONValue.parse(Array(bytes)), let sps = v["samples_per_s"]?.doubleValue else {
            printError("the in-process baseline failed (status \(p.terminationStatus))")
            throw ExitCode(1)
        }
        return sps
    }
}

enum PythonBootstrapPath { static let python = PythonBootstrap.interpreter }

/// Batch latencies gathered from worker threads.
final class LatencyLog: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Double] = []
    func add(_ v: Double) { lock.lock(); values.append(v); lock.unlock() }
    func reset() { lock.lock(); values.removeAll(); lock.unlock() }
    func sorted() -> [Double] { lock.lock(); defer { lock.unlock() }; return values.sorted() }
}


/// User + system CPU seconds of this process so far (all threads; children not included).
func processCPUSeconds() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

/// Milliseconds to posix_spawn `argv` and reap it (no sandbox), or nil if it could not start.
func timeSpawn(_ argv: [String]) -> Double? {
    let start = DispatchTime.now().uptimeNanoseconds
    var pid: pid_t = 0
    let cargv = argv.map { strdup($0) } + [nil]
    defer { for c in cargv { free(c) } }
    guard posix_spawn(&pid, argv[0], nil, nil, cargv, environ) == 0 else { return nil }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}

import Foundation
import JSON
import GraderRuntime
import TransformerModel

/// The conditions a benchmark was measured under, printed with its figures by every `rft bench`
/// command (and `rft grader bench`): the commit of the checkout the binary was built in, the build
/// configuration, and the load average when the command started. A figure quoted in
/// docs/PERFORMANCE.md is stated with these.
struct BenchConditions: Sendable, Codable {
    /// Short hash of HEAD of the repository holding the executable (`-dirty` when tracked files
    /// differ from it), or `unknown` when the binary is not inside a git checkout.
    var commit: String
    /// `release` or `debug`: the configuration this binary was compiled in.
    var build: String
    /// 1, 5 and 15-minute load averages (`/proc/loadavg`) when the command started.
    var loadAverage: [Double]
    /// Online CPUs.
    var cpus: Int
    /// UTC time the command started, ISO 8601.
    var startedAt: String
    /// The OpenBLAS kernels in use, and how they were chosen (``BLASCore/description``).
    var blasCore: String
    /// The version of the model's own decode kernels that runs here: "avx512", "avx2" or "generic".
    var decodeKernels: String

    /// Reads the conditions now; call it before the benchmark's work starts.
    static func now() -> BenchConditions {
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        let load = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "")
            .split(separator: " ").prefix(3).compactMap { Double($0) }
        let formatter = ISO8601DateFormatter()
        return BenchConditions(commit: commitOfExecutable(), build: build, loadAverage: load,
                               cpus: ProcessInfo.processInfo.activeProcessorCount, startedAt: formatter.string(from: Date()),
                               blasCore: BLASCore.description, decodeKernels: Transformer.decodeKernels)
    }

    /// `{"commit", "build", "load_average": [1m, 5m, 15m], "cpus", "started_at", "blas_core", "decode_kernels"}`.
    var json: JSONValue {
        ["commit": .string(commit), "build": .string(build), "load_average": .array(loadAverage.map(JSONValue.number)),
         "cpus": .number(Double(cpus)), "started_at": .string(startedAt),
         "blas_core": .string(blasCore), "decode_kernels": .string(decodeKernels)]
    }

    /// One line for text reports: `conditions: commit 1a2b3c4, release build, load average 0.52 0.80 1.10 at start, 2 CPUs, 2026-...`.
    var line: String {
        "conditions: commit \(commit), \(build) build, load average "
            + loadAverage.map { String(format: "%.2f", $0) }.joined(separator: " ") + " at start, \(cpus) CPUs, OpenBLAS \(blasCore), decode kernels \(decodeKernels), \(startedAt)"
    }

    /// HEAD of the git checkout that holds this executable (`.build/<config>/rft` lives inside it).
    private static func commitOfExecutable() -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent(".git").path) { break }
            dir = dir.deletingLastPathComponent()
        }
        guard dir.path != "/", let head = git(["rev-parse", "--short=12", "HEAD"], in: dir.path), !head.isEmpty else { return "unknown" }
        let dirty = git(["status", "--porcelain", "--untracked-files=no"], in: dir.path).map { !$0.isEmpty } ?? false
        return dirty ? head + "-dirty" : head
    }

    private static func git(_ arguments: [String], in directory: String) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-C", directory] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

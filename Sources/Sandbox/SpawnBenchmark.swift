import CSpawn
import Foundation

/// `rft bench spawn`: /bin/true spawned plainly and under the default grader policy, alternating,
/// in one process.
public enum SpawnBenchmark {
    public struct Stats: Sendable {
        public var median: Double
        public var p90: Double
        init(_ samples: [Double]) {
            let s = samples.sorted()
            median = s.isEmpty ? 0 : s[s.count / 2]
            p90 = s.isEmpty ? 0 : s[min(s.count - 1, Int(Double(s.count) * 0.9))]
        }
    }

    public struct Result: Sendable {
        public var plain: Stats
        public var sandboxed: Stats
        public var ratio: Double { sandboxed.median / plain.median }
    }

    public static func run(runs: Int, warmup: Int, program: String = "/bin/true") throws -> Result {
        let sandbox = try Sandbox(policy: .grader)
        let argv = [program]
        let cArgv: [UnsafeMutablePointer<CChar>?] = [strdup(program), nil]
        let cEnv: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
        defer { for p in cArgv + cEnv { free(p) } }
        func plain() throws -> Double {
            let t0 = monotonicNs()
            let st = rft_plain_spawn_wait(program, cArgv, cEnv)
            let t1 = monotonicNs()
            guard st == 0 else { throw SandboxError(layer: "bench", message: "plain posix_spawn of \(program) returned \(st)") }
            return Double(t1 - t0) / 1e3
        }
        func sandboxed() throws -> Double {
            let t0 = monotonicNs()
            let o = sandbox.run(argv)
            let t1 = monotonicNs()
            guard o.status == .ok else { throw SandboxError(layer: "bench", message: "sandboxed \(program): \(o.status) \(o.message ?? "")") }
            return Double(t1 - t0) / 1e3
        }
        for _ in 0..<warmup { _ = try plain(); _ = try sandboxed() }
        var a: [Double] = [], b: [Double] = []
        for _ in 0..<runs {
            a.append(try plain())
            b.append(try sandboxed())
        }
        return Result(plain: Stats(a), sandboxed: Stats(b))
    }
}

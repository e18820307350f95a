import ArgumentParser
import Foundation
import Sandbox

/// `rft sandbox`: run a command under the sandbox, or describe the active layers.
struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run commands in the sandbox and inspect which isolation layers are active.",
        discussion: """
        Examples:
          rft sandbox run -- /usr/bin/python3 -c 'print(6 * 7)'
          rft sandbox run --timeout-ms 500 --memory-mb 128 -- sh -c 'while :; do :; done'
          rft sandbox info --json
        """,
        subcommands: [SandboxRunCommand.self, SandboxInfoCommand.self]
    )
}

/// `rft sandbox run`: one sandboxed run, printed as one JSON Outcome.
struct SandboxRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in the sandbox and print its typed outcome as one JSON object.",
        discussion: """
        Prints {"status": ..., "exit_code": ..., "stdout": ..., ...} on stdout and exits 0 whenever an
        outcome was produced (status is one of ok, nonzero_exit, signaled, timeout, memory_limit,
        output_limit, syscall_violation, exec_error, sandbox_error). Stdin is passed to the command.

        Examples:
          rft sandbox run -- python3 -c 'import socket; socket.create_connection(("127.0.0.1", 8000))'
          rft sandbox run --profile untrusted-code --timeout-ms 2000 -- /usr/bin/python3 solution.py
          rft sandbox run --cpu-ms-per-sec 500 -- /usr/bin/python3 solution.py   # at most half a core
          rft sandbox run --ro /srv/graders/exact --allow-env LANG -- /srv/graders/exact/grade.sh
          rft sandbox run --allow-degraded --memory-mb 64 -- python3 -c 'x = bytearray(300 << 20)'

        Without root or a delegated cgroup v2 subtree, limits fall back to weaker layers; rft then
        refuses to run unless you pass --allow-degraded (rft sandbox info says what is missing).
        """
    )

    enum Profile: String, ExpressibleByArgument, CaseIterable { case grader, untrustedCode = "untrusted-code" }

    @Option(help: "Starting policy.") var profile: Profile = .grader
    @Option(name: .customLong("timeout-ms"), help: "Wall-clock deadline in milliseconds.") var timeoutMs: Int?
    @Option(name: .customLong("cpu-ms"), help: "CPU-time limit in milliseconds (rounded up to whole seconds).") var cpuMs: Int?
    @Option(name: .customLong("cpu-ms-per-sec"),
            help: "CPU bandwidth: ms of CPU per second of wall time over all cores (1000 = one core; cpu cgroup, root only).")
    var cpuMsPerSec: Int?
    @Option(name: .customLong("memory-mb"), help: "Memory limit in MB.") var memoryMB: Int?
    @Option(name: .customLong("pids"), help: "Maximum processes and threads.") var pids: Int?
    @Option(name: .customLong("output-kb"), help: "Captured output per stream, in KiB.") var outputKB: Int?
    @Option(name: .customLong("scratch-mb"), help: "Size of the writable scratch directory /tmp, in MB.") var scratchMB: Int?
    @Option(help: "Network access: none or host.") var network: String?
    @Option(name: .customLong("allow-env"), help: "Copy this variable from the environment (repeatable).") var allowEnv: [String] = []
    @Option(name: .customLong("ro"), help: "Make this host path visible read-only (repeatable).") var readOnly: [String] = []
    @Flag(help: "Pretty-print the JSON.") var pretty = false
    @OptionGroup var degraded: DegradedModeOption
    @Argument(parsing: .remaining, help: "The command and its arguments (after --).") var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("missing command: rft sandbox run [options] -- CMD ARGS...") }
        if let n = network, NetworkAccess(rawValue: n) == nil {
            throw ValidationError("--network must be none or host, got \"\(n)\"")
        }
    }

    func run() throws {
        var policy: SandboxPolicy = profile == .grader ? .grader : .untrustedCode
        if let v = timeoutMs { policy.wallTimeoutMs = v }
        if let v = cpuMs { policy.cpuTimeMs = v }
        if let v = cpuMsPerSec { policy.cpuMsPerSec = v }
        if let v = memoryMB { policy.memoryMB = v }
        if let v = pids { policy.maxPids = v }
        if let v = outputKB { policy.maxOutputBytes = v * 1024 }
        if let v = scratchMB { policy.scratchSizeMB = v }
        if let n = network, let a = NetworkAccess(rawValue: n) { policy.network = a }
        policy.allowEnv += allowEnv
        policy.readOnlyPaths += readOnly
        policy.allowDegraded = degraded.allowDegraded
        var argv = command
        if argv.first == "--" { argv.removeFirst() }
        let stdin = isatty(0) == 0 ? [UInt8](FileHandle.standardInput.readDataToEndOfFile()) : []
        let outcome: Outcome
        do {
            let sandbox = try Sandbox(policy: policy)
            for w in sandbox.unenforced { printWarning(w) }
            outcome = sandbox.run(argv, stdin: stdin)
            sandbox.close() // remove its cgroups before this process exits
        } catch let e as SandboxError {
            outcome = .sandboxError(e)
        }
        print(try cliJSON(outcome, pretty: pretty))
    }
}

/// `rft sandbox info`: which layers are active here, and why any is missing.
struct SandboxInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Explain which sandbox layers are active on this machine, and why any is missing.",
        discussion: """
        Each layer is probed for real: a namespace is created, a filter compiled, and a full run of
        /bin/cat /proc/self/cgroup under memory, pids and CPU limits must land in rft's own cgroups
        with the limits written there before a cgroup layer is marked [on]. An [off] layer names the
        file or permission that failed and the fix.

        Examples:
          rft sandbox info
          rft sandbox info --json
          setpriv --reuid=65534 --regid=65534 --clear-groups rft sandbox info
          systemd-run --user --scope -p Delegate=yes rft sandbox info   # rootless, delegated cgroup v2
        """
    )
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let report = SandboxInfo.probe()
        if json {
            print(try cliJSON(report, pretty: true))
        } else {
            print(report.text)
        }
    }
}

/// `rft bench spawn`: sandboxed spawn cost against plain posix_spawn.
struct BenchSpawnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spawn",
        abstract: "Time /bin/true spawned plainly (posix_spawn) and under the full default grader sandbox.",
        discussion: """
        Both ways run in the same process, alternating, after a warm-up. The sandboxed way uses
        SandboxPolicy.grader with every layer on: PID, mount, IPC, UTS and network namespaces (a
        prepared empty network namespace is joined), a fresh /proc and tmpfs scratch, cgroups,
        rlimits, the unprivileged uid (as root) and the seccomp filter. Build with -c release.

        Examples:
          swift build -c release && .build/release/rft bench spawn --runs 300
          rft bench spawn --runs 500 --json
        """
    )
    @Option(help: "Spawns per way.") var runs = 300
    @Option(help: "Warm-up spawns per way (not timed).") var warmup = 20
    @Flag(help: "Print {\"plain_us\": .., \"sandboxed_us\": .., \"ratio\": ..} (medians).") var json = false

    func run() throws {
        let conditions = BenchConditions.now()
        let result = try SpawnBenchmark.run(runs: runs, warmup: warmup)
        if json {
            print("{\"plain_us\": \(fmt(result.plain.median)), \"sandboxed_us\": \(fmt(result.sandboxed.median)), \"ratio\": \(fmt(result.ratio, 3)), \"plain_p90_us\": \(fmt(result.plain.p90)), \"sandboxed_p90_us\": \(fmt(result.sandboxed.p90)), \"runs\": \(runs), \"conditions\": \(conditions.json.jsonString(sortedKeys: true))}")
        } else {
            print(conditions.line)
            print("spawn + wait of /bin/true, \(runs) runs each (µs)")
            print("  plain posix_spawn     median \(fmt(result.plain.median))  p90 \(fmt(result.plain.p90))")
            print("  sandbox (grader)      median \(fmt(result.sandboxed.median))  p90 \(fmt(result.sandboxed.p90))")
            print("  ratio (median)        \(fmt(result.ratio, 3))x")
        }
    }

    private func fmt(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }
}

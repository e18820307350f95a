import Foundation
import XCTest
@testable import GraderRuntime
import JSON
import Sandbox

/// The exec service on its own: typed outcomes, per-run limits, identity, environment, sessions, cleanup.
final class ExecServiceTests: XCTestCase {
    private let python = "/usr/bin/python3"

    private let timeScale = max(1, Int(ProcessInfo.processInfo.environment["RFT_TEST_TIME_SCALE"] ?? "") ?? 1)

    /// cgroup v2 on a kernel before 6.12, where memory.peak cannot be reset.
    static let peakKnownForFirstRunOnly: Bool = {
        guard FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") else { return false }
        var u = utsname(); uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let parts = release.split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
        return parts.count == 2 && (parts[0], parts[1]) < (6, 12)
    }()

    private func service(_ configure: (inout ExecSettings) -> Void = { _ in }) -> ExecService {
        var s = ExecSettings()
        s.timeoutMs = 3000
        configure(&s)
        s.timeoutMs *= timeScale // emulation (the cgroup v2 guest) stretches deadlines
        return ExecService(settings: s)
    }

    /// Processes whose real uid is `uid` (the candidate's own, read back from the candidate).
    private func processes(ofUID uid: UInt32) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard Int32(entry) != nil, let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }) else { return nil }
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            return fields.count > 1 && UInt32(fields[1]) == uid ? entry : nil
        }
    }

    func testARunGetsAFreshSandboxOfItsOwnWithOnlyTheEnvironmentItIsGiven() throws {
        let svc = service()
        let before = Set(childProcesses())
        setenv("RFT_TEST_HOST_SECRET", "host-secret-1", 1)
        defer { unsetenv("RFT_TEST_HOST_SECRET") }
        let probe = """
            import json, os, socket
            fds = sorted(int(f) for f in os.listdir('/proc/self/fd'))
            open('/tmp/mark', 'w').write('x')
            env = dict(e.split('=', 1) for e in open('/proc/self/environ').read().split('\\0') if e)
            ns = {n: os.readlink('/proc/self/ns/' + n) for n in ('pid', 'mnt', 'ipc', 'uts', 'net')}
            try:
                socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                net = "socket allowed"
            except PermissionError:
                net = "EPERM"
            print(json.dumps({"uid": os.getuid(), "env": env, "fds": fds, "pid": os.getpid(), "ns": ns, "net": net,
                              "procs": sorted(p for p in os.listdir('/proc') if p.isdigit()),
                              "tmp": sorted(os.listdir('/tmp')), "shm": sorted(os.listdir('/dev/shm')),
                              "stdin": input(), "cwd": os.getcwd()}))
            open('/dev/shm/mark', 'w').write('x')
            """
        var uids: [UInt32] = []
        for round in 0..<2 {
            let o = svc.run([python, "-I", "-S", "-c", probe], stdin: Array("hello \(round)\n".utf8),
                            environment: ["ONLY": "this"], limits: try svc.limits(nil))
            XCTAssertEqual(o.status, .ok, o.stderr)
            let v = try JSONValue.parse(o.stdout)
            XCTAssertEqual(v["env"], .object(["ONLY": "this"]), "empty environment unless passed")
            XCTAssertEqual(v["stdin"]?.stringValue, "hello \(round)")
            XCTAssertEqual(v["fds"]?.arrayValue?.compactMap(\.doubleValue), [0, 1, 2, 3], "stdio and the listing's own fd only")
            XCTAssertEqual(v["cwd"]?.stringValue, "/tmp")
            XCTAssertEqual(v["net"]?.stringValue, "EPERM", "no network")
            for n in ["pid", "mnt", "ipc", "uts", "net"] {
                let mine = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\(n)")) ?? "?"
                XCTAssertNotEqual(v["ns"]?[n]?.stringValue, mine, "its own \(n) namespace")
                XCTAssertNotNil(v["ns"]?[n]?.stringValue)
            }
            XCTAssertEqual(v["tmp"]?.arrayValue?.compactMap(\.stringValue), ["mark"], "a fresh /tmp each run")
            XCTAssertEqual(v["shm"]?.arrayValue, [], "a fresh /dev/shm each run")
            XCTAssertEqual(v["pid"]?.doubleValue, 2, "its own PID namespace (rft's init is pid 1)")
            XCTAssertEqual(v["procs"]?.arrayValue, ["2"], "only its own processes are visible (hidepid hides rft's init)")
            XCTAssertGreaterThan(o.wallMs, 0)
            XCTAssertGreaterThan(o.cpuMs, 0)
            if geteuid() == 0 {
                let uid = UInt32(v["uid"]?.doubleValue ?? 0)
                XCTAssertTrue((61_000..<63_000).contains(uid), "an unprivileged sandbox uid, got \(uid)")
                XCTAssertEqual(processes(ofUID: uid), [], "nothing of the run survives it")
                uids.append(uid)
                // memory.peak is reset per run on cgroup v1 and from Linux 6.12; before that, v2 knows a slot's first run only.
                if !Self.peakKnownForFirstRunOnly { XCTAssertNotNil(o.peakMemoryBytes) }
            }
        }
        XCTAssertEqual(leftoverChildren(since: before), [])
    }

    func testLimitsArePerRunAndCappedByTheManifest() throws {
        let svc = service { $0.memoryMB = 128; $0.timeoutMs = 2000 }
        XCTAssertThrowsError(try svc.limits(["memory_mb": 512])) { e in
            XCTAssertTrue("\(e)".contains("memory_mb must be 16...128"), "\(e)")
        }
        XCTAssertThrowsError(try svc.limits(["timeout": 5]))
        let slow = svc.run([python, "-c", "import time; time.sleep(30)"], stdin: [], environment: [:],
                           limits: try svc.limits(["timeout_ms": .number(Double(300 * timeScale))]))
        XCTAssertEqual(slow.status, .timeout)
        XCTAssertLessThan(slow.wallMs, Double(1500 * timeScale))
        if geteuid() == 0 {
            let hog = svc.run([python, "-c", "x = bytearray(400 << 20)"], stdin: [], environment: [:],
                              limits: try svc.limits(["memory_mb": 64]))
            XCTAssertEqual(hog.status, .memory_limit, hog.stderr)
        }
        let loud = svc.run([python, "-c", "print('x' * 100000)"], stdin: [], environment: [:],
                           limits: try svc.limits(["max_output_bytes": 1000]))
        XCTAssertEqual(loud.status, .output_limit)
        let bad = svc.run([python, "-c", "import ctypes; ctypes.CDLL(None).syscall(101, 16, 1, 0, 0)"], stdin: [],
                          environment: [:], limits: try svc.limits(nil))
        XCTAssertEqual(bad.status, .syscall_violation)
        XCTAssertEqual(bad.syscall, "ptrace")
    }

    func testASessionServesLinesAndEverythingItStartedDiesWhenItIsClosed() throws {
        let svc = service()
        let before = Set(childProcesses())
        let server = """
            import os, subprocess, sys
            subprocess.Popen(['sleep', '600'], start_new_session=True)
            rin, rout = os.fdopen(3, 'rb'), os.fdopen(4, 'wb', buffering=0)
            rout.write(b'ready %d\\n' % os.getuid())
            for line in rin:
                if line.strip() == b'hang':
                    import time; time.sleep(60)
                rout.write(line.upper())
            """
        let s = try svc.open([python, "-I", "-S", "-c", server], environment: [:], limits: try svc.limits(nil))
        guard case .line(let ready) = s.exchange(nil, timeoutMs: 3000) else { return XCTFail("no ready line") }
        let uid = UInt32(String(decoding: ready, as: UTF8.self).split(separator: " ").last ?? "") ?? 0
        guard case .line(let a) = s.exchange(Array("abc".utf8), timeoutMs: 2000) else { return XCTFail("no reply") }
        XCTAssertEqual(String(decoding: a, as: UTF8.self), "ABC")
        guard case .ended(let o) = s.exchange(Array("hang".utf8), timeoutMs: 300) else { return XCTFail("the call should time out") }
        XCTAssertEqual(o.status, .timeout)
        guard case .ended(let again) = s.exchange(Array("x".utf8), timeoutMs: 300) else { return XCTFail("an ended session stays ended") }
        XCTAssertEqual(again.status, .timeout)
        if geteuid() == 0 { XCTAssertEqual(processes(ofUID: uid), [], "the session's sleep died with its PID namespace") }
        XCTAssertEqual(leftoverChildren(since: before), [])

        let t = try svc.open([python, "-I", "-S", "-c", server], environment: [:], limits: try svc.limits(nil))
        guard case .line = t.exchange(nil, timeoutMs: 3000) else { return XCTFail("no ready line") }
        XCTAssertEqual(t.close().status, .ok)
        XCTAssertEqual(leftoverChildren(since: before), [])
    }

    func testPlacesAreBoundedAndASessionNeverClosedGivesItsPlaceBackWhenItsProcessIsGone() throws {
        let svc = service { $0.concurrency = 1; $0.sessionTimeoutMs = 500 }
        let soon = FrameChannel.now() + 3_000_000_000
        XCTAssertTrue(svc.acquire(deadline: soon))
        let leaked = try svc.open([python, "-c", "import time; time.sleep(60)"], environment: [:], limits: try svc.limits(nil))
        XCTAssertFalse(svc.acquire(deadline: FrameChannel.now() + 100_000_000), "the only place is taken")
        // Never closed: the session's lifetime (500 ms) ends it, and its place comes back.
        XCTAssertTrue(svc.acquire(deadline: soon))
        svc.release()
        XCTAssertTrue(leaked.processExited)
    }

    func testManifestExecFieldIsValidatedAndOptional() throws {
        let none = try GraderManifest.decode(Array(#"{"name": "g", "handler": "h.f"}"#.utf8), file: "g.json")
        XCTAssertNil(none.exec)
        let some = try GraderManifest.decode(Array(#"{"name": "g", "handler": "h.f", "exec": {"timeout_ms": 100}}"#.utf8), file: "g.json")
        XCTAssertEqual(some.exec?.timeoutMs, 100)
        XCTAssertEqual(some.exec?.memoryMB, 256)
        XCTAssertThrowsError(try GraderManifest.decode(Array(#"{"name": "g", "handler": "h.f", "exec": {"timout_ms": 1, "memory_mb": 1}}"#.utf8), file: "g.json")) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("g.json: exec.timout_ms: unknown field (did you mean 'timeout_ms'?)"), text)
            XCTAssertTrue(text.contains("g.json: exec.memory_mb: must be 16...65536, got 1"), text)
        }
    }

    /// Through a real python grader: only a grader that opts in gets rft_exec; the program it runs
    /// sees none of the grader's uid, environment, files or processes.
    func testPythonGradersReachTheServiceOnlyWhenTheyOptIn() throws {
        let handler = """
            import json, os
            try:
                import rft_exec
            except ImportError:
                rft_exec = None
            PROBE = ("import json, os\\nprocs = [p for p in os.listdir('/proc') if p.isdigit()]\\n"
                     "env = [e for e in open('/proc/self/environ').read().split(chr(0)) if e]\\n"
                     "print(json.dumps({'uid': os.getuid(), 'env': dict(e.split('=', 1) for e in env), 'procs': len(procs),"
                     " 'grader_dir': os.path.exists(%r)}))" % os.getcwd())
            def lambda_handler(event, context):
                if rft_exec is None:
                    return [{"id": s["id"], "aggregate_reward_score": -1} for s in event]
                def one(s):
                    r = rft_exec.run(["/usr/bin/python3", "-I", "-S", "-c", PROBE], env={"A": "1"}, timeout_ms=2000)
                    v = json.loads(r.stdout)
                    m = {"ok": r.status == "ok", "other_uid": v["uid"] != os.getuid(),
                         "env_only_passed": v["env"] == {"A": "1"}, "secret_in_grader": os.environ.get("GRADER_SECRET") == "g-s3cret",
                         "sees_grader_dir": v["grader_dir"], "procs": v["procs"]}
                    return {"id": s["id"], "aggregate_reward_score": 1,
                            "metrics_list": [{"name": k, "value": float(x), "type": "Metric"} for k, x in m.items()]}
                return [one(s) for s in event]
            """
        let on = try Fixture.python(handler, manifest: #""exec": {"timeout_ms": 2000}, "environment": {"GRADER_SECRET": "g-s3cret"}"#)
        let pool = try GraderPool(directory: on)
        defer { pool.shutdown() }
        let results = pool.score(Fixture.samples(3))
        for r in results {
            XCTAssertEqual(r.score, 1, "\(r)")
            let m = Dictionary(uniqueKeysWithValues: r.metrics.map { ($0.name, $0.value) })
            XCTAssertEqual(m["ok"], 1)
            XCTAssertEqual(m["env_only_passed"], 1)
            XCTAssertEqual(m["secret_in_grader"], 1, "the grader has its secret")
            XCTAssertEqual(m["sees_grader_dir"], 0, "the grader's files are not in the run's view")
            XCTAssertEqual(m["procs"], 1, "itself only")
            if geteuid() == 0 { XCTAssertEqual(m["other_uid"], 1, "a uid distinct from the grader's") }
        }
        let off = try Fixture.python(handler)
        let plain = try GraderPool(directory: off)
        defer { plain.shutdown() }
        XCTAssertEqual(plain.score(Fixture.samples(1)).first?.score, -1, "no exec channel without opting in")
    }

    /// Exec graders reach the service through the documented fd protocol.
    func testExecGradersUseTheFrameProtocolOnTheirInheritedFds() throws {
        let grader = """
            #!/usr/bin/python3
            import json, os, sys
            batch = json.load(sys.stdin)
            req, rep = int(os.environ["RFT_EXEC_REQUEST_FD"]), int(os.environ["RFT_EXEC_REPLY_FD"])
            def call(body):
                data = json.dumps({"rft_exec": body}).encode()
                os.write(req, len(data).to_bytes(4, "big") + data)
                def read(n):
                    b = b""
                    while len(b) < n:
                        b += os.read(rep, n - len(b))
                    return b
                return json.loads(read(int.from_bytes(read(4), "big")))["rft_exec_reply"]
            out = []
            for i, s in enumerate(batch):
                r = call({"id": i, "op": "run", "argv": ["/usr/bin/python3", "-c", "print(len(open('/proc/self/environ').read()), int(input()) * 2)"],
                          "stdin": "21\\n", "limits": {"timeout_ms": 2000}})
                o = r["outcome"]
                out.append({"id": s["id"], "aggregate_reward_score": 1 if (o["status"], o["stdout"]) == ("ok", "0 42\\n") else 0})
            print(json.dumps(out))
            """
        let dir = try Fixture.grader(#"{"name": "e", "runtime": "exec", "command": ["./grade.py"], "exec": {}}"#,
                                     files: ["grade.py": grader])
        let pool = try GraderPool(directory: dir)
        defer { pool.shutdown() }
        let results = pool.score(Fixture.samples(2))
        XCTAssertEqual(results.map(\.score), [1, 1], "\(results)")
    }
}

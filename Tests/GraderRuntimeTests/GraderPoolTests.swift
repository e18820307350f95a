import XCTest
@testable import GraderRuntime

/// Each typed error, retries, recycling, throttling and shutdown.
final class GraderPoolTests: XCTestCase {
    private func pool(_ code: String, _ manifest: String = "") throws -> GraderPool {
        try GraderPool(directory: try Fixture.python(code, manifest: manifest))
    }

    func testInitErrorIsReportedBeforeAnySampleIsScored() throws {
        let p = try pool("import no_such_module\ndef lambda_handler(event, context):\n    return []\n")
        defer { p.shutdown() }
        let r = p.score(Fixture.samples(3))
        for x in r {
            XCTAssertEqual(x.error?.type, .initError)
            XCTAssertTrue(x.error!.message.hasPrefix("ModuleNotFoundError: No module named 'no_such_module'"), x.error!.message)
            XCTAssertTrue(x.error!.message.contains("handler.py\", line 1"), x.error!.message)
        }
        XCTAssertEqual(p.validate()?.type, .initError)
        let missing = try pool("def other(event, context):\n    return []\n")
        defer { missing.shutdown() }
        XCTAssertTrue(missing.validate()!.message.contains("has no attribute 'lambda_handler'"))
    }

    func testHandlerExceptionIsAHandlerErrorWithItsStackTrace() throws {
        let p = try pool("def lambda_handler(event, context):\n    raise ValueError('bad event')\n", #""retries": 0"#)
        defer { p.shutdown() }
        let r = p.score(Fixture.samples(2))
        XCTAssertEqual(r.map { $0.error?.type }, [.handlerError, .handlerError])
        // Each half failed on its own: the error names its sample, the exception and the grader's own line.
        XCTAssertTrue(r[0].error!.message.hasPrefix("sample \"s0\" (isolated from a batch of 2): ValueError: bad event (at handler.py:2)"),
                      r[0].error!.message)
        XCTAssertTrue(r[0].error!.message.contains("in lambda_handler"), r[0].error!.message)
        XCTAssertFalse(r[0].error!.message.contains("File \"<string>\""), "no bootstrap frames: \(r[0].error!.message)")
    }

    func testCrashIsRetriedInHalvesSoNeighboursKeepTheirScores() throws {
        let p = try pool("""
            import os
            def lambda_handler(event, context):
                if any(s["id"] == "s3" for s in event):
                    os._exit(3)
                return [{"id": s["id"], "aggregate_reward_score": 1} for s in event]
            """, #""batch_size": 4, "retries": 1, "concurrency": 1"#)
        defer { p.shutdown() }
        let r = p.score(Fixture.samples(4))
        XCTAssertEqual(r[0].score, 1)
        XCTAssertEqual(r[1].score, 1)
        XCTAssertEqual(r[2].score, 1, "the culprit is isolated down to itself")
        XCTAssertEqual(r[3].error?.type, .crash)
        XCTAssertTrue(r[3].error!.message.contains("exited with status 3"),
                      r[3].error!.message)
        XCTAssertTrue(r[3].error!.message.hasPrefix("sample \"s3\" (isolated from a batch of 4)"), r[3].error!.message)
        // One split into four single samples; the culprit, having failed again alone, is not retried.
        XCTAssertEqual(p.currentStats.retries, 1)
        XCTAssertEqual(p.currentStats.batches, 5)
        // The pool keeps serving with a fresh worker.
        XCTAssertEqual(p.score([Fixture.sample("ok", "x")])[0].score, 1)
    }

    func testTimeoutKillsTheWorkerAndTheNextBatchStillRuns() throws {
        let p = try pool("""
            import time
            def lambda_handler(event, context):
                if event[0]["id"] == "slow":
                    while True:
                        time.sleep(1)
                return [{"id": s["id"], "aggregate_reward_score": 1} for s in event]
            """, #""timeout_ms": 300, "retries": 0, "concurrency": 1"#)
        defer { p.shutdown() }
        let r = p.score([Fixture.sample("slow", "x")])
        XCTAssertEqual(r[0].error?.type, .timeout)
        XCTAssertTrue(r[0].error!.message.contains("timeout_ms 300"))
        XCTAssertEqual(p.score([Fixture.sample("fast", "x")])[0].score, 1)
    }

    func testMemoryLimitIsToldApartFromOtherKills() throws {
        let p = try pool("""
            def lambda_handler(event, context):
                hog = bytearray(400 * 1024 * 1024)
                for i in range(0, len(hog), 4096):
                    hog[i] = 1
                return [{"id": s["id"], "aggregate_reward_score": 1} for s in event]
            """, #""memory_mb": 64, "retries": 0, "concurrency": 1"#)
        defer { p.shutdown() }
        let r = p.score(Fixture.samples(1))
        XCTAssertEqual(r[0].error?.type, .memoryLimit, "\(r[0])")
    }

    func testForbiddenSyscallIsNamed() throws {
        let p = try pool("""
            import ctypes, time
            def lambda_handler(event, context):
                ctypes.CDLL(None).syscall(101, 0, 1, 0, 0)  # ptrace(PTRACE_TRACEME...) on x86_64
                # The sandbox answers the call (EPERM) and then kills the worker: do not race the kill here.
                time.sleep(2)
                return [{"id": s["id"], "aggregate_reward_score": 1} for s in event]
            """, #""retries": 0"#)
        defer { p.shutdown() }
        let r = p.score(Fixture.samples(1))
        XCTAssertEqual(r[0].error?.type, .syscallViolation, "\(r[0])")
        XCTAssertTrue(r[0].error?.message.contains("ptrace") == true, "\(r[0])")
    }

    func testGradersRunInsideTheSandbox() throws {
        let p = try pool("""
            import os, socket
            def probe():
                checks = {}
                try:
                    open("/etc/shadow").read(); checks["shadow"] = 0
                except OSError:
                    checks["shadow"] = 1
                checks["root_hidden"] = 0 if os.path.exists("/root/.pyenv") else 1
                try:
                    socket.create_connection(("127.0.0.1", 22), timeout=1); checks["net"] = 0
                except OSError:
                    checks["net"] = 1
                try:
                    open("/usr/rft-test-write", "w"); checks["ro"] = 0
                except OSError:
                    checks["ro"] = 1
                return checks
            def lambda_handler(event, context):
                c = probe()
                return [{"id": s["id"], "aggregate_reward_score": min(c.values()),
                         "metrics_list": [{"name": k, "value": v} for k, v in c.items()]} for s in event]
            """)
        defer { p.shutdown() }
        let r = p.score(Fixture.samples(1))
        XCTAssertEqual(r[0].score, 1, "\(r[0].metrics)")
    }

    func testInvalidOutputFromTheHandler() throws {
        let p = try pool("""
            def lambda_handler(event, context):
                if event[0]["id"] == "obj":
                    return {"not": "a list"}
                if event[0]["id"] == "set":
                    return [{"id": s["id"], "aggregate_reward_score": {1, 2}} for s in event]
                return [{"id": s["id"] + "-wrong", "aggregate_reward_score": 1} for s in event]
            """, #""batch_size": 1"#)
        defer { p.shutdown() }
        let r = p.score([Fixture.sample("obj", ""), Fixture.sample("set", ""), Fixture.sample("ids", "")])
        XCTAssertEqual(r.map { $0.error?.type }, [.invalidOutput, .invalidOutput, .invalidOutput])
        XCTAssertTrue(r[0].error!.message.contains("got object"), r[0].error!.message)
        XCTAssertTrue(r[1].error!.message.contains("not JSON serializable"), r[1].error!.message)
        XCTAssertTrue(r[2].error!.message.contains("unexpected ids \"ids-wrong\""), r[2].error!.message)
    }

    func testProtocolBreakReplacesTheWorker() throws {
        let p = try pool("""
            import os
            def lambda_handler(event, context):
                if event[0]["id"] == "forge":
                    os.write(102, b"\\xff\\xff\\xff\\xff")  # a frame header far past the limit, on the response fd
                    return []
                if event[0]["id"] == "deep":
                    x = []
                    for _ in range(100000):
                        x = [x]
                    return x
                return [{"id": s["id"], "aggregate_reward_score": 1} for s in event]
            """, #""batch_size": 1, "concurrency": 1, "retries": 0"#)
        defer { p.shutdown() }
        let r = p.score([Fixture.sample("forge", ""), Fixture.sample("deep", ""), Fixture.sample("fine", "")])
        XCTAssertEqual(r[0].error?.type, .crash, "\(r[0])")
        XCTAssertTrue(r[0].error?.message.contains("protocol violation") == true, "\(r[0])")
        XCTAssertEqual(r[1].error?.type, .invalidOutput, "\(r[1])")
        XCTAssertEqual(r[2].score, 1)
    }

    func testThrottledWhenTheQueueIsFull() throws {
        let p = try pool("""
            import time
            def lambda_handler(event, context):
                time.sleep(0.1)
                return [{"id": s["id"], "aggregate_reward_score": 1} for s in event]
            """, #""batch_size": 1, "concurrency": 1, "queue_limit": 1"#)
        defer { p.shutdown() }
        let r = p.score(Fixture.samples(5))
        XCTAssertEqual(r[0].score, 1)
        XCTAssertEqual(r.dropFirst().map { $0.error?.type }, [.throttled, .throttled, .throttled, .throttled])
        XCTAssertTrue(r[1].error!.message.contains("queue_limit 1"))
    }

    func testWorkersAreRecycledAfterNInvocations() throws {
        let p = try pool("""
            import os
            WORKER = int.from_bytes(os.urandom(4), "little")  # pids repeat inside PID namespaces
            def lambda_handler(event, context):
                return [{"id": s["id"], "aggregate_reward_score": WORKER} for s in event]
            """, #""batch_size": 1, "concurrency": 1, "recycle_after": 2"#)
        defer { p.shutdown() }
        let pids = p.score(Fixture.samples(4)).map { $0.score! }
        XCTAssertEqual(pids[0], pids[1])
        XCTAssertEqual(pids[2], pids[3])
        XCTAssertNotEqual(pids[1], pids[2])
    }

    func testStateDoesNotSurviveABatchError() throws {
        let p = try pool("""
            seen = []
            def lambda_handler(event, context):
                seen.append(1)
                if event[0]["id"] == "boom":
                    raise RuntimeError("boom")
                return [{"id": s["id"], "aggregate_reward_score": len(seen)} for s in event]
            """, #""batch_size": 1, "concurrency": 1, "retries": 0"#)
        defer { p.shutdown() }
        XCTAssertEqual(p.score([Fixture.sample("a", "")])[0].score, 1)
        XCTAssertEqual(p.score([Fixture.sample("b", "")])[0].score, 2)
        XCTAssertEqual(p.score([Fixture.sample("boom", "")])[0].error?.type, .handlerError)
        XCTAssertEqual(p.score([Fixture.sample("c", "")])[0].score, 1)
    }

    func testRepeatedIdsStillGetOneResultEach() throws {
        let p = try pool("def lambda_handler(event, context):\n    return [{'id': s['id'], 'aggregate_reward_score': 1} for s in event]\n")
        defer { p.shutdown() }
        let r = p.score([Fixture.sample("a", ""), Fixture.sample("a", ""), Fixture.sample("b", "")])
        XCTAssertEqual(r.map(\.score), [1, 1, 1])
    }

    func testShutdownReapsEveryWorkerAndRefusesNewWork() throws {
        let before = Set(childProcesses())
        let p = try pool("def lambda_handler(event, context):\n    return [{'id': s['id'], 'aggregate_reward_score': 1} for s in event]\n",
                         #""concurrency": 3"#)
        XCTAssertEqual(p.score(Fixture.samples(100)).compactMap(\.score).count, 100)
        p.shutdown()
        XCTAssertEqual(leftoverChildren(since: before), [])
        XCTAssertEqual(p.score(Fixture.samples(1))[0].error?.type, .throttled)
    }

    func testAsyncScoreFromManyTasks() async throws {
        let p = try pool("def lambda_handler(event, context):\n    return [{'id': s['id'], 'aggregate_reward_score': len(s['id'])} for s in event]\n")
        defer { p.shutdown() }
        let total = await withTaskGroup(of: Int.self) { group in
            for t in 0..<8 {
                group.addTask { await p.score(Fixture.samples(50, prefix: "t\(t)-")).compactMap(\.score).count }
            }
            return await group.reduce(0, +)
        }
        XCTAssertEqual(total, 400)
    }
}

/// The exec runtime: one sandboxed process per batch.
final class ExecRuntimeTests: XCTestCase {
    private func exec(_ script: String, _ extra: String = "") throws -> GraderPool {
        let dir = try Fixture.grader(#"{"name": "x", "runtime": "exec", "command": ["./grade.sh"]\#(extra)}"#,
                                     files: ["grade.sh": "#!/bin/sh\n" + script])
        return try GraderPool(directory: dir)
    }

    func testExampleStyleScriptScores() throws {
        let p = try exec(#"sed -n 's/.*"id":"\([^"]*\)".*/{"id":"\1","aggregate_reward_score":1},/p' | sed '$ s/,$//' | (echo '['; cat; echo ']')"#)
        defer { p.shutdown() }
        XCTAssertEqual(p.score(Fixture.samples(5)).map(\.score), [1, 1, 1, 1, 1])
    }

    func testNonZeroExitIsACrashWithStderr() throws {
        let p = try exec("echo 'Traceback: it broke' >&2\nexit 4\n", #", "retries": 0"#)
        defer { p.shutdown() }
        let r = p.score(Fixture.samples(2))
        XCTAssertEqual(r[0].error?.type, .crash)
        XCTAssertTrue(r[0].error!.message.contains("status 4"), r[0].error!.message)
        XCTAssertTrue(r[0].error!.message.contains("it broke"), r[0].error!.message)
    }

    func testGarbageOnStdoutIsInvalidOutput() throws {
        let p = try exec("cat > /dev/null\necho 'score: 1'\n")
        defer { p.shutdown() }
        XCTAssertEqual(p.score(Fixture.samples(2)).map { $0.error?.type }, [.invalidOutput, .invalidOutput])
    }

    func testTimeout() throws {
        let p = try exec("sleep 30\n", #", "timeout_ms": 300, "retries": 0"#)
        defer { p.shutdown() }
        XCTAssertEqual(p.score(Fixture.samples(1))[0].error?.type, .timeout)
    }

    func testBadInterpreterIsAnInitError() throws {
        let dir = try Fixture.grader(#"{"name": "x", "runtime": "exec", "command": ["./grade.sh"]}"#,
                                     files: ["grade.sh": "#!/no/such/interpreter\n"])
        let p = try GraderPool(directory: dir)
        defer { p.shutdown() }
        XCTAssertEqual(p.score(Fixture.samples(1))[0].error?.type, .initError)
        XCTAssertEqual(p.validate()?.type, .initError)
    }
}

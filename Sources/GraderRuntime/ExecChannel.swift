import Foundation
import JSON
import Sandbox

/// Serves one grader process's exec requests (see docs/GRADERS.md, "The exec service").
///
/// Requests arrive as frames on the grader's own response channel and replies go back on its request
/// channel (a frame is a 4-byte big-endian length and JSON):
/// ```
/// grader → rft  {"rft_exec": {"id": 1, "op": "run", "argv": [...], "stdin": "...", "env": {...}, "limits": {...}}}
/// rft → grader  {"rft_exec_reply": {"id": 1, "outcome": {"status": "ok", "exit_code": 0, "stdout": "...", ...}}}
/// ```
/// Ops: `run`, `open` (a session), `call` (write a line to the session, read its reply line), `close`.
/// A refused request is answered `{"id", "error": "..."}`. Requests are served concurrently (each
/// waits for one of `exec.concurrency` places); replies may come in any order.
final class ExecChannel: @unchecked Sendable {
    private let service: ExecService
    private let fd: Int32
    /// How long a request may wait for a place, and a reply may wait for the grader to read it.
    private let waitMs: Int
    private let writeLock = NSLock()
    private var closed = false
    private let stateLock = NSLock()
    private var sessions: [Int: ExecSession] = [:]
    private var sessionsClosed = false
    private var nextSession = 1
    private var inFlight = 0
    static let maxInFlight = 256

    /// - Parameter fd: where replies are written (the grader's request channel); the caller keeps it
    ///   open until ``close()`` has returned.
    init(service: ExecService, replyFD: Int32, waitMs: Int) {
        self.service = service
        self.fd = replyFD
        self.waitMs = waitMs
    }

    /// Whether a frame from the grader is an exec request rather than its own protocol.
    static func isRequest(_ frame: [UInt8]) -> Bool {
        let prefix = Array(#"{"rft_exec""#.utf8)
        return frame.count > prefix.count && Array(frame[0..<prefix.count]) == prefix
    }

    /// Writes a frame to the grader under the channel's lock (batch requests share the pipe).
    func write(_ frame: inout [UInt8], deadline: UInt64) -> Bool {
        writeLock.lock(); defer { writeLock.unlock() }
        if closed { return false }
        return FrameChannel.write(fd, frame: &frame, deadline: deadline)
    }

    /// Starts serving one request frame on its own thread.
    func handle(_ frame: [UInt8]) {
        stateLock.lock()
        let busy = inFlight >= Self.maxInFlight
        if !busy { inFlight += 1 }
        stateLock.unlock()
        let request = (try? JSONValue.parse(frame))?["rft_exec"]
        let id = request?["id"] ?? .null
        if busy {
            reply(id, ["error": .string("more than \(Self.maxInFlight) exec requests are in flight")])
            return
        }
        let t = Thread { [self] in
            defer { stateLock.lock(); inFlight -= 1; stateLock.unlock() }
            let body: JSONObject
            do {
                guard let request, request.objectValue != nil else {
                    throw ExecService.RequestError(message: "an exec request must be {\"rft_exec\": {\"id\": …, \"op\": …}}")
                }
                body = try serve(request)
            } catch let e as ExecService.RequestError {
                body = ["error": .string(e.message)]
            } catch {
                body = ["error": .string("\(error)")]
            }
            reply(id, body)
        }
        t.name = "rft-exec"
        t.stackSize = 512 << 10
        t.start()
    }

    /// Kills every open session and stops replying. Called before the grader's pipes are closed.
    func close() {
        writeLock.lock(); closed = true; writeLock.unlock()
        stateLock.lock()
        let open = sessions
        sessions = [:]
        sessionsClosed = true
        stateLock.unlock()
        for (_, s) in open { s.abort() }
        for (_, s) in open { _ = s.close(); s.releasePlace() }
    }

    private func reply(_ id: JSONValue, _ body: JSONObject) {
        var o = body
        o["id"] = id
        let payload = JSONValue.object(["rft_exec_reply": .object(o)]).jsonBytes()
        var frame = FrameChannel.begin(capacity: payload.count)
        frame.append(contentsOf: payload)
        _ = write(&frame, deadline: FrameChannel.now() + UInt64(waitMs) * 1_000_000)
    }

    private func serve(_ r: JSONValue) throws -> JSONObject {
        guard let op = r["op"]?.stringValue else { throw ExecService.RequestError(message: "op is required: run, open, call or close") }
        switch op {
        case "run":
            let (argv, env, limits) = try spec(r)
            let stdin: [UInt8]
            switch r["stdin"] {
            case nil, .some(.null): stdin = []
            case .some(.string(let s)): stdin = Array(s.utf8)
            case .some(let v): throw ExecService.RequestError(message: "stdin must be a string, got \(v.typeName)")
            }
            try place()
            defer { service.release() }
            return ["outcome": Self.json(service.run(argv, stdin: stdin, environment: env, limits: limits))]
        case "open":
            let (argv, env, limits) = try spec(r)
            try place()
            let session: ExecSession
            do { session = try service.open(argv, environment: env, limits: limits) } catch {
                // No session was made: give the place back here.
                service.release()
                let e = error as? SandboxError ?? SandboxError(layer: "exec-service", message: "\(error)")
                return ["outcome": Self.json(.sandboxError(e))]
            }
            stateLock.lock()
            let n = nextSession
            nextSession += 1
            let isClosed = sessionsClosed
            if !isClosed { sessions[n] = session }
            stateLock.unlock()
            if isClosed { _ = session.close(); session.releasePlace() }
            return ["session": .number(Double(n))]
        case "call", "close":
            guard let n = r["session"]?.doubleValue.map(Int.init) else { throw ExecService.RequestError(message: "\(op): session is required") }
            stateLock.lock()
            let session = sessions[n]
            if op == "close" { sessions[n] = nil }
            stateLock.unlock()
            guard let session else { throw ExecService.RequestError(message: "\(op): no open session \(n)") }
            if op == "close" {
                let o = session.close()
                session.releasePlace()
                return ["outcome": Self.json(o)]
            }
            var data: [UInt8]?
            switch r["data"] {
            case nil, .some(.null): data = nil
            case .some(.string(let s)): data = Array(s.utf8)
            case .some(let v): throw ExecService.RequestError(message: "data must be a string, got \(v.typeName)")
            }
            let timeout = try r["timeout_ms"].map { v -> Int in
                guard let d = v.doubleValue, d >= 1, d <= Double(service.settings.timeoutMs) else {
                    throw ExecService.RequestError(message: "timeout_ms must be 1...\(service.settings.timeoutMs), got \(v.jsonString)")
                }
                return Int(d)
            } ?? service.settings.timeoutMs
            switch session.exchange(data, timeoutMs: timeout) {
            case .line(let bytes):
                return ["data": .string(String(decoding: bytes, as: UTF8.self))]
            case .ended(let o):
                stateLock.lock()
                sessions.removeValue(forKey: n)
                stateLock.unlock()
                session.releasePlace()
                return ["outcome": Self.json(o)]
            }
        default:
            throw ExecService.RequestError(message: "unknown op \"\(op)\"; known: run, open, call, close")
        }
    }

    private func place() throws {
        if !service.acquire(deadline: FrameChannel.now() + UInt64(waitMs) * 1_000_000) {
            throw ExecService.RequestError(message: "no exec place came free within \(waitMs) ms (exec.concurrency \(service.settings.concurrency))")
        }
    }

    private func spec(_ r: JSONValue) throws -> ([String], [String: String], ExecService.Limits) {
        guard let items = r["argv"]?.arrayValue, !items.isEmpty else {
            throw ExecService.RequestError(message: "argv must be a non-empty list of strings")
        }
        var argv: [String] = []
        for (i, a) in items.enumerated() {
            guard let s = a.stringValue, !s.contains("\0") else { throw ExecService.RequestError(message: "argv[\(i)] must be a string without NUL") }
            argv.append(s)
        }
        var env: [String: String] = [:]
        if let e = r["env"], !e.isNull {
            guard let obj = e.objectValue else { throw ExecService.RequestError(message: "env must be an object of strings") }
            for (k, v) in obj {
                guard !k.isEmpty, !k.contains("="), !k.contains("\0"), let s = v.stringValue, !s.contains("\0") else {
                    throw ExecService.RequestError(message: "env.\(k): names must be non-empty without '=', values strings without NUL")
                }
                env[k] = s
            }
        }
        return (argv, env, try service.limits(r["limits"]))
    }

    /// The outcome as the grader sees it (snake_case keys).
    static func json(_ o: Outcome) -> JSONValue {
        var j = JSONObject()
        j["status"] = .string(o.status.rawValue)
        j["exit_code"] = o.exitCode.map { .number(Double($0)) } ?? .null
        j["signal"] = o.signal.map(JSONValue.string) ?? .null
        j["syscall"] = o.syscall.map(JSONValue.string) ?? .null
        j["layer"] = o.layer.map(JSONValue.string) ?? .null
        j["message"] = o.message.map(JSONValue.string) ?? .null
        j["stdout"] = .string(o.stdout)
        j["stderr"] = .string(o.stderr)
        j["stdout_truncated"] = .bool(o.stdoutTruncated)
        j["stderr_truncated"] = .bool(o.stderrTruncated)
        j["wall_ms"] = .number(o.wallMs)
        j["cpu_ms"] = .number(o.cpuMs)
        j["peak_memory_bytes"] = o.peakMemoryBytes.map { .number(Double($0)) } ?? .null
        return .object(j)
    }
}

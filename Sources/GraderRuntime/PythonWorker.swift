import Foundation
import JSON
import Sandbox

/// A warm, sandboxed Python worker running rft's bootstrap (see ``PythonBootstrap``).
///
/// The handler is imported once; batches then travel as frames on the dedicated fds 3 and 4.
/// A worker that times out, dies or breaks the protocol is killed and replaced on the next batch.
/// It is also recycled after `recycle_after` invocations and after any batch-level error, so state a
/// misbehaving handler leaves behind does not reach later batches.
final class PythonWorker: BatchInvoker {
    private let manifest: GraderManifest
    private let directory: URL
    private let sandbox: Sandbox
    private let checker: OutputChecker
    private var process: SandboxedProcess?
    private var readBuffer: [UInt8] = []
    private var invocations = 0
    /// A request already sent ahead (its id and send time); cleared whenever the worker goes away.
    private var sentAhead: (requestID: String, start: UInt64)?
    /// What a worker that was just killed had printed.
    private var deadWorkerLogs: ([UInt8], [UInt8])?

    /// Give the sandbox's output drain a moment before collecting a batch's logs (only when someone reads them).
    private let settleLogs: Bool
    /// The pool's exec service when the manifest opts in (`"exec"`), and this worker's channel to it.
    private let execService: ExecService?
    private var execChannel: ExecChannel?

    init(manifest: GraderManifest, directory: URL, sandbox: Sandbox, settleLogs: Bool = false, exec: ExecService? = nil) {
        self.settleLogs = settleLogs
        self.execService = exec
        self.manifest = manifest
        self.directory = directory
        self.sandbox = sandbox
        self.checker = OutputChecker(scoreRange: manifest.scoreRange.map { $0[0]...$0[1] })
    }

    var isWarm: Bool { process != nil }

    func prewarm() -> Swift.Result<Double, GraderError> {
        if process != nil { return .success(0) }
        let start = FrameChannel.now()
        var argv = PythonBootstrap.argv(directory: directory.path, manifest: manifest)
        if execService != nil { argv.append(PythonBootstrap.execModuleSource) }
        let p: SandboxedProcess
        do { p = try sandbox.spawn(argv, channels: true) } catch let e as SandboxError {
            return .failure(GraderError(.sandboxError, "sandbox layer \(e.layer): \(e.message)"))
        } catch {
            return .failure(GraderError(.sandboxError, "\(error)"))
        }
        readBuffer = []
        execChannel = execService.map { ExecChannel(service: $0, replyFD: p.requestFD, waitMs: manifest.timeoutMs) }
        let deadline = start + UInt64(manifest.initTimeoutMs) * 1_000_000
        switch readFrame(p, deadline: deadline) {
        case .frame(let bytes):
            let msg = try? JSONValue.parse(bytes)
            if msg?["ready"]?.boolValue == true {
                process = p
                invocations = 0
                return .success(Double(FrameChannel.now() - start) / 1e6)
            }
            closeExecChannel()
            p.kill(reason: .shutdown)
            let o = p.wait()
            if let err = msg?["init_error"] {
                return .failure(GraderError(.initError, PythonWorker.describe(err) + GraderError.stderrTail(o.stderr)))
            }
            return .failure(GraderError(.initError, "the bootstrap sent an unexpected first frame"))
        case .timeout:
            closeExecChannel()
            p.kill(reason: .timeout)
            return .failure(GraderError.from(p.wait(), manifest: manifest, starting: true))
        case .eof, .violation:
            closeExecChannel()
            p.kill(reason: .shutdown)
            let o = p.wait()
            return .failure(GraderError.from(o, manifest: manifest, starting: true))
        }
    }

    func invoke(_ batch: [Sample], requestID: String, lookahead: (() -> (batch: [Sample], requestID: String)?)? = nil) -> BatchAttempt {
        var start = FrameChannel.now()
        var sent = false
        if let ahead = sentAhead, ahead.requestID == requestID, process != nil {
            // Sent while the previous answer was being checked.
            start = ahead.start
            sent = true
        }
        sentAhead = nil
        if !sent {
            if invocations >= manifest.recycleAfter { shutdown() }
            if process == nil, case .failure(let e) = prewarm() {
                return BatchAttempt(result: .failed(e))
            }
            start = FrameChannel.now()
        }
        guard let p = process else { return BatchAttempt(result: .failed(GraderError(.crash, "no worker"))) }
        let deadline = start + UInt64(manifest.timeoutMs) * 1_000_000

        var attempt: BatchAttempt
        if !sent && !send(batch, requestID: requestID, to: p, deadline: deadline) {
            attempt = BatchAttempt(result: .failed(kill(p, timedOut: FrameChannel.now() >= deadline)))
        } else {
            switch readFrame(p, deadline: deadline) {
            case .frame(let bytes):
                // The worker is idle now: give it the next batch before checking this answer.
                if !settleLogs, invocations < manifest.recycleAfter, let next = lookahead?() {
                    let nextStart = FrameChannel.now()
                    if send(next.batch, requestID: next.requestID, to: p,
                            deadline: nextStart + UInt64(manifest.timeoutMs) * 1_000_000) {
                        sentAhead = (next.requestID, nextStart)
                    }
                    // A failed send leaves sentAhead empty: that batch is sent again when it is invoked.
                }
                attempt = BatchAttempt(result: response(bytes, batch: batch, requestID: requestID))
            case .timeout:
                attempt = BatchAttempt(result: .failed(kill(p, timedOut: true)))
            case .eof:
                attempt = BatchAttempt(result: .failed(kill(p, timedOut: false)))
            case .violation(let why):
                _ = kill(p, timedOut: false)
                attempt = BatchAttempt(result: .failed(GraderError(.crash, "protocol violation: \(why); the worker was replaced")))
            }
        }
        attempt.wallMs = Double(FrameChannel.now() - start) / 1e6
        if let p = process {
            // The bootstrap flushes stdout/stderr before it answers, but the sandbox drains them on its own
            // thread: wait a moment so this batch's prints are attributed to it.
            if settleLogs { usleep(2000) }
            let out = p.takeOutput()
            attempt.stdout = out.stdout
            attempt.stderr = out.stderr
            // Recycle after batch-level errors: whatever state caused them goes with the worker.
            if case .failed = attempt.result { shutdown() }
        } else if let logs = deadWorkerLogs {
            (attempt.stdout, attempt.stderr) = logs
            deadWorkerLogs = nil
        }
        return attempt
    }

    /// Writes one request frame; counts the invocation.
    private func send(_ batch: [Sample], requestID: String, to p: SandboxedProcess, deadline: UInt64) -> Bool {
        invocations += 1
        var frame = FrameChannel.begin(capacity: batch.reduce(128) { $0 + $1.encoded.count + 2 })
        frame.append(contentsOf: "{\"request_id\":".utf8)
        JSONValue.writeString(requestID, into: &frame)
        frame.append(contentsOf: ",\"timeout_ms\":\(manifest.timeoutMs),\"batch\":".utf8)
        appendBatchJSON(batch, to: &frame)
        frame.append(UInt8(ascii: "}"))
        if let execChannel { return execChannel.write(&frame, deadline: deadline) }
        return FrameChannel.write(p.requestFD, frame: &frame, deadline: deadline)
    }

    /// Reads the worker's next frame of its own protocol; exec requests met on the way are handed to
    /// the exec service (served on their own threads, so the batch deadline keeps running).
    private func readFrame(_ p: SandboxedProcess, deadline: UInt64) -> FrameChannel.ReadResult {
        while true {
            let r = FrameChannel.read(p.responseFD, deadline: deadline, buffer: &readBuffer)
            if case .frame(let bytes) = r, let execChannel, ExecChannel.isRequest(bytes) {
                execChannel.handle(bytes)
                continue
            }
            return r
        }
    }

    /// Kills the worker's untrusted sessions and stops replying to it (before its pipes are closed).
    private func closeExecChannel() {
        execChannel?.close()
        execChannel = nil
    }

    /// Decodes a response frame into checked per-sample results.
    private func response(_ bytes: [UInt8], batch: [Sample], requestID: String) -> BatchAttempt.Result {
        let ids = batch.map(\.id)
        if let fast = FastResponse.parse(bytes, requestID: requestID, ids: ids, scoreRange: checker.scoreRange) {
            return .checked(fast)
        }
        guard let msg = try? JSONValue.parse(bytes, allowNonFinite: true), msg.objectValue != nil else {
            if let p = process { _ = kill(p, timedOut: false) }
            return .failed(GraderError(.crash, "protocol violation: the response frame is not a JSON object; the worker was replaced"))
        }
        guard msg["request_id"]?.stringValue == requestID else {
            if let p = process { _ = kill(p, timedOut: false) }
            return .failed(GraderError(.crash, "protocol violation: response for another request; the worker was replaced"))
        }
        if let result = msg["result"] {
            return .checked(checker.check(result, ids: ids))
        }
        if let err = msg["error"] {
            return .failed(GraderError(.handlerError, PythonWorker.describe(err)))
        }
        if let why = msg["marshal_error"]?.stringValue {
            return .failed(GraderError(.invalidOutput, why))
        }
        return .failed(GraderError(.crash, "protocol violation: the response has no result"))
    }

    /// Kills the worker and types what happened from the sandbox's outcome.
    private func kill(_ p: SandboxedProcess, timedOut: Bool) -> GraderError {
        if timedOut {
            p.kill(reason: .timeout)
        } else {
            // The channel closed: the worker is most likely exiting by itself. Let it, so its own exit
            // status or signal is what gets reported, then kill whatever is left.
            let grace = FrameChannel.now() + 500_000_000
            while !p.hasExited && FrameChannel.now() < grace { usleep(500) }
            if !p.hasExited { p.kill(reason: .shutdown) }
        }
        let o = p.wait()
        closeExecChannel()
        process = nil
        readBuffer = []
        sentAhead = nil
        deadWorkerLogs = (Array(o.stdout.utf8), Array(o.stderr.utf8))
        if timedOut && o.status != .memory_limit && o.status != .syscall_violation {
            return GraderError(.timeout, "the batch exceeded timeout_ms \(manifest.timeoutMs); the worker was killed\(GraderError.stderrTail(o.stderr))")
        }
        if o.status == .ok || o.status == .timeout {
            // We killed it for breaking the protocol, or it exited by itself mid-batch.
            return GraderError(.crash, "the worker closed its channel mid-batch\(GraderError.stderrTail(o.stderr))")
        }
        return GraderError.from(o, manifest: manifest)
    }

    func shutdown() {
        sentAhead = nil
        guard let p = process else { return }
        process = nil
        readBuffer = []
        p.kill(reason: .shutdown)
        _ = p.wait()
        closeExecChannel()
    }

    /// `errorType: errorMessage` and the stack trace of a Lambda-style error object.
    static func describe(_ err: JSONValue) -> String {
        let type = err["errorType"]?.stringValue ?? "Error"
        let message = err["errorMessage"]?.stringValue ?? ""
        let at = err["location"]?.stringValue.map { " (at \($0))" } ?? ""
        let stack = (err["stackTrace"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: "\n")
        return stack.isEmpty ? "\(type): \(message)\(at)" : "\(type): \(message)\(at)\n\(stack)"
    }
}

import Foundation
import Sandbox
#if canImport(Glibc)
import Glibc
#endif

/// The exec runtime: one sandboxed process per batch, the batch JSON on stdin, the output list on stdout.
final class ExecInvoker: BatchInvoker {
    private let manifest: GraderManifest
    private let argv: [String]
    private let sandbox: Sandbox
    private let checker: OutputChecker
    private let execService: ExecService?

    init(manifest: GraderManifest, directory: URL, sandbox: Sandbox, exec: ExecService? = nil) {
        self.execService = exec
        self.manifest = manifest
        self.sandbox = sandbox
        var argv = manifest.command ?? []
        if let prog = argv.first, !prog.hasPrefix("/"), prog.contains("/") || FileManager.default.fileExists(atPath: directory.appendingPathComponent(prog).path) {
            argv[0] = directory.appendingPathComponent(prog).standardizedFileURL.path
        }
        self.argv = argv
        self.checker = OutputChecker(scoreRange: manifest.scoreRange.map { $0[0]...$0[1] })
    }

    func prewarm() -> Swift.Result<Double, GraderError> { .success(0) }
    var isWarm: Bool { true }

    func invoke(_ batch: [Sample], requestID: String, lookahead: (() -> (batch: [Sample], requestID: String)?)? = nil) -> BatchAttempt {
        let start = FrameChannel.now()
        let o = execService.map { runServingExec(batch, requestID: requestID, service: $0) }
            ?? sandbox.run(argv, stdin: batchJSON(batch), environment: ["RFT_REQUEST_ID": requestID])
        let wallMs = Double(FrameChannel.now() - start) / 1e6
        let result: BatchAttempt.Result
        if o.status == .ok && !o.stdoutTruncated {
            result = .checked(checker.check(output: Array(o.stdout.utf8), ids: batch.map(\.id)))
        } else if o.status == .ok {
            result = .failed(GraderError(.invalidOutput, "stdout exceeded the output limit, so the result list is incomplete"))
        } else {
            result = .failed(GraderError.from(o, manifest: manifest))
        }
        return BatchAttempt(result: result, stdout: Array(o.stdout.utf8), stderr: Array(o.stderr.utf8), wallMs: wallMs)
    }

    func shutdown() {}

    /// The file descriptors an exec grader that opted in uses to reach the exec service.
    static let requestFDVariable = "RFT_EXEC_REQUEST_FD", replyFDVariable = "RFT_EXEC_REPLY_FD"

    /// Runs the grader with the exec channel: it writes exec request frames on fd 4 (`RFT_EXEC_REQUEST_FD`)
    /// and reads the replies on fd 3 (`RFT_EXEC_REPLY_FD`), while the batch goes to its stdin as usual.
    private func runServingExec(_ batch: [Sample], requestID: String, service: ExecService) -> Outcome {
        let env = ["RFT_REQUEST_ID": requestID, Self.requestFDVariable: "4", Self.replyFDVariable: "3"]
        let p: SandboxedProcess
        do { p = try sandbox.spawn(argv, environment: env, channels: true) } catch let e as SandboxError {
            return e.layer == "exec" ? Outcome(status: .exec_error, message: e.message) : .sandboxError(e)
        } catch {
            return .sandboxError(SandboxError(layer: "spawn", message: "\(error)"))
        }
        let channel = ExecChannel(service: service, replyFD: p.requestFD, waitMs: manifest.timeoutMs)
        let deadline = FrameChannel.now() + UInt64(manifest.timeoutMs) * 1_000_000
        // The batch is written on its own thread: the grader may send exec requests before reading all of it.
        let input = batchJSON(batch)
        let writer = Thread {
            _ = FrameChannel.writeAll(p.stdinFD, input, deadline: deadline)
            p.closeStdin()
        }
        writer.start()
        var buffer: [UInt8] = []
        var violation: String?
        loop: while true {
            switch FrameChannel.read(p.responseFD, deadline: deadline, buffer: &buffer) {
            case .frame(let bytes) where ExecChannel.isRequest(bytes):
                channel.handle(bytes)
            case .eof:
                break loop
            case .timeout:
                p.kill(reason: .timeout)
                break loop
            case .frame:
                violation = "the grader wrote a frame on its exec channel that is not an exec request; it was stopped"
                p.kill(reason: .shutdown)
                break loop
            case .violation(let why):
                violation = "exec channel: \(why); the grader was stopped"
                p.kill(reason: .shutdown)
                break loop
            }
        }
        var o = p.wait()
        channel.close()
        if let violation { o.message = violation }
        return o
    }

}

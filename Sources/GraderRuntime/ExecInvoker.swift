import Foundation
import Sandbox

/// The exec runtime: one sandboxed process per batch, the batch JSON on stdin, the output list on stdout.
final class ExecInvoker: BatchInvoker {
    private let manifest: GraderManifest
    private let argv: [String]
    private let sandbox: Sandbox
    private let checker: OutputChecker

    init(manifest: GraderManifest, directory: URL, sandbox: Sandbox) {
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

    func invoke(_ batch: [Sample], requestID: String) -> BatchAttempt {
        let start = FrameChannel.now()
        let o = sandbox.run(argv, stdin: batchJSON(batch), environment: ["RFT_REQUEST_ID": requestID])
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
}

/// rft's Python runtime interface client, modelled on AWS Lambda's.
///
/// It runs as `/usr/bin/python3 -I -S -B -c <source> <grader-dir> <module.function> <contract> <name> <memory-mb> [<rft_exec source>]`
/// inside the sandbox (passing the source on the command line means no file has to be mounted):
/// 1. **Init**: import the handler once. Success sends `{"ready": true, "init_ms": …}`; failure sends
///    `{"init_error": {errorType, errorMessage, stackTrace}}` and exits, before any sample is scored.
/// 2. **Invoke loop**: read a request frame from fd 3, call the handler through its contract adapter,
///    write one response frame to fd 4. A frame is a 4-byte big-endian length and JSON.
///    Request: `{"request_id", "timeout_ms", "batch": [samples]}`.
///    Response: `{"request_id", "result": [outputs]}`, `{"request_id", "error": {errorType, errorMessage,
///    stackTrace}}` (the handler raised) or `{"request_id", "marshal_error": "…"}` (output not JSON).
///
/// The channel fds are moved above 100 and marked close-on-exec before user code is imported, so the
/// handler's `print` goes to the stdout log and can never be mistaken for a result.
///
/// With the `rft_exec` source (manifests with `"exec"`), `import rft_exec` reaches the exec service over the
/// same channel: `{"rft_exec": …}` request frames on fd 4, `{"rft_exec_reply": …}` frames among the requests on fd 3.
///
/// With `--inprocess FILE BATCH_SIZE` in place of the name and memory, it instead times the handler called
/// in-process over the samples in FILE (the baseline of `rft grader bench`) and prints
/// `{"samples_per_s": …, "samples": …}`.
public enum PythonBootstrap {
    /// The interpreter graders run under. `/root` (pyenv) is hidden in the sandbox, so never a shim.
    public static let interpreter = "/usr/bin/python3"

    /// argv that starts a worker for `manifest` in `directory`.
    public static func argv(directory: String, manifest: GraderManifest) -> [String] {
        [interpreter, "-I", "-S", "-B", "-c", source, directory, manifest.handler ?? "", manifest.contract.rawValue,
         manifest.name, String(manifest.memoryMB)]
    }

    /// argv of the in-process baseline loop used by `rft grader bench`.
    public static func inProcessArgv(directory: String, manifest: GraderManifest, samplesFile: String, batchSize: Int) -> [String] {
        [interpreter, "-I", "-B", "-c", source, directory, manifest.handler ?? "", manifest.contract.rawValue,
         "--inprocess", samplesFile, String(batchSize)]
    }

    /// The bootstrap's Python source (Python/bootstrap.py, embedded in the binary).
    public static let source = embedded(PackageResources.bootstrap_py)

    /// An embedded .py file as the source passed to `-c`: its text without the file's final newline.
    static func embedded(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }
}

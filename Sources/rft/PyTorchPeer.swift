import Foundation
import JSON
import GraderRuntime

/// The PyTorch / Hugging Face / TRL peer (`Benchmarks/peer/pytorch_peer.py`, set up by
/// `Benchmarks/peer/setup.sh` in `.venv-peer`), whose JSON report `rft bench` commands compare
/// against. Either run in the same invocation (`--peer-python`, or `.venv-peer/bin/python` when it
/// exists) or read from a file the peer wrote earlier (`--peer-json`).
struct PyTorchPeer {
    /// The peer's script, relative to the repository root.
    static let defaultScript = "Benchmarks/peer/pytorch_peer.py"
    /// The venv `Benchmarks/peer/setup.sh` makes, relative to the repository root.
    static let defaultPython = ".venv-peer/bin/python"

    struct PeerError: Error, CustomStringConvertible {
        var description: String
    }

    /// The peer's report: from `jsonFile` if given; else by running `python` (or, when nil, the default
    /// venv if it exists) on `script` with `--json --sections … --threads … --config …`; nil when no
    /// peer is available. A peer that was asked for and fails is an error.
    static func report(jsonFile: String?, python: String?, script: String, sections: [String], threads: Int,
                       config: String, extraArguments: [String] = []) throws -> JSONValue? {
        if let jsonFile {
            guard let data = FileManager.default.contents(atPath: jsonFile) else { throw PeerError(description: "cannot read --peer-json \(jsonFile)") }
            do { return try JSONValue.parse(Array(data)) } catch { throw PeerError(description: "\(jsonFile): invalid JSON: \(error)") }
        }
        let interpreter: String
        if let python {
            interpreter = python
        } else if FileManager.default.isExecutableFile(atPath: defaultPython), FileManager.default.fileExists(atPath: script) {
            interpreter = defaultPython
        } else {
            return nil
        }
        guard FileManager.default.fileExists(atPath: script) else {
            throw PeerError(description: "peer script \(script) not found (run from the repository root or pass --peer-script)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: interpreter)
        p.arguments = [script, "--json", "--sections", sections.joined(separator: ","), "--threads", String(threads),
                       "--config", config] + extraArguments
        let out = Pipe()
        p.standardOutput = out
        do { try p.run() } catch { throw PeerError(description: "cannot start the peer \(interpreter): \(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw PeerError(description: "the peer (\(interpreter) \(script)) exited with status \(p.terminationStatus); its errors are above")
        }
        let lastLine = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        do { return try JSONValue.parse(Array(lastLine.utf8)) } catch {
            throw PeerError(description: "the peer printed no JSON report: \(lastLine.prefix(200))")
        }
    }
}

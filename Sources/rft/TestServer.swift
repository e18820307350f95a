import ArgumentParser
import Foundation
import GraderRuntime
import JSON
import Sandbox

/// A helper server a grader's cases need (the judge template's fake judge), described by
/// `DIR/test-server.json` and started by `rft grader test` for the cases, in the sandbox:
///
/// ```json
/// {"about": "the bundled fake judge (tools/fake_judge_server.py)",
///  "command": ["/usr/bin/python3", "tools/fake_judge_server.py", "--port", "0"],
///  "environment": {"JUDGE_BASE_URL": "{url}/v1", "JUDGE_MODEL": "fake"},
///  "unless_set": "JUDGE_BASE_URL"}
/// ```
/// The server prints its base URL (`http://127.0.0.1:PORT`) on its first output line; `{url}` in the
/// environment values becomes that URL. When the `unless_set` variable is already set, the cases run
/// against the endpoint it names instead and nothing is started.
struct TestServer {
    static let fileName = "test-server.json"

    let about: String
    /// The variables the grader gets (passed through by its manifest's environment allowlist).
    let environment: [String: String]
    let url: String
    /// The variable that, when set, replaces this server.
    let unlessSet: String?
    private let process: SandboxedProcess
    private let sandbox: Sandbox

    /// Starts the server described in `directory`, or returns nil when there is none or the user's
    /// environment already points the grader elsewhere.
    /// The server gets the host network (to listen on loopback), so only a grader whose manifest
    /// grants the network may have one.
    static func startIfDescribed(in directory: URL, networkGranted: Bool, callerEnvironment: [String: String]) throws -> TestServer? {
        let file = directory.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        let shown = file.path
        let spec: JSONValue
        do { spec = try JSONValue.parse(Array(data)) } catch { throw TestServerError("\(shown): invalid JSON at \(error)") }
        if let name = spec["unless_set"]?.stringValue, let v = callerEnvironment[name], !v.isEmpty { return nil }
        guard networkGranted else {
            throw TestServerError("\(shown): a test server needs \"network\": true in grader.json (the grader reaches it on loopback)")
        }
        guard let argv = spec["command"]?.arrayValue?.compactMap(\.stringValue), let prog = argv.first else {
            throw TestServerError("\(shown): command: must be a list of strings")
        }
        var command = argv
        if !prog.hasPrefix("/") { command[0] = directory.appendingPathComponent(prog).path }
        // Relative script arguments are resolved against the grader directory, as the manifest's command is.
        for i in command.indices.dropFirst() where !command[i].hasPrefix("-") && !command[i].hasPrefix("/")
            && FileManager.default.fileExists(atPath: directory.appendingPathComponent(command[i]).path) {
            command[i] = directory.appendingPathComponent(command[i]).path
        }
        var policy = SandboxPolicy.grader
        policy.wallTimeoutMs = nil
        policy.cpuTimeMs = nil
        policy.network = .host  // it listens on the host's loopback, where the grader (network: true) reaches it
        policy.readOnlyPaths.append(directory.path)
        let sandbox = try Sandbox(policy: policy)
        let p = try sandbox.spawn(command)
        // Wait (at most 10 s) for the line that names the URL.
        var seen = ""
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            seen += String(decoding: p.takeOutput().stdout, as: UTF8.self)
            if let r = seen.range(of: #"http://[0-9A-Za-z.:\-\[\]]+"#, options: .regularExpression) {
                var url = String(seen[r])
                if url.hasSuffix("/v1") { url.removeLast(3) }
                var env: [String: String] = [:]
                for (k, v) in spec["environment"]?.objectValue ?? [:] {
                    if let s = v.stringValue { env[k] = s.replacingOccurrences(of: "{url}", with: url) }
                }
                return TestServer(about: spec["about"]?.stringValue ?? argv.joined(separator: " "), environment: env, url: url,
                                  unlessSet: spec["unless_set"]?.stringValue, process: p, sandbox: sandbox)
            }
            if p.hasExited { break }
            usleep(20_000)
        }
        p.kill(reason: .shutdown)
        let o = p.wait()
        throw TestServerError("\(shown): the test server did not print its URL within 10 s (\(o.status.rawValue)); stderr: \(o.stderr.suffix(400))")
    }

    /// What `rft grader test` prints before the table.
    /// Starts the server `directory` describes, if any, and adds its environment to `options`
    /// (what `rft grader test` and `rft grader audit` both need). An unusable description is printed
    /// and exits with status 2.
    static func start(for directory: URL, manifest: GraderManifest, into options: inout GraderPool.Options) throws -> TestServer? {
        let server: TestServer?
        do { server = try startIfDescribed(in: directory, networkGranted: manifest.network, callerEnvironment: options.environment) } catch {
            printError("\(error)"); throw ExitCode(2)
        }
        if let server { options.environment.merge(server.environment) { $1 } }
        return server
    }

    var notice: String { notice(what: "cases run", purpose: "test") }

    /// "`what` against the server at URL, started for this `purpose`" (`rft grader audit` says "the audit runs").
    func notice(what: String, purpose: String) -> String {
        "\(what) against \(about) at \(url), started for this \(purpose)"
            + (unlessSet.map { "; set \($0) to \(purpose) against another endpoint" } ?? "")
    }

    /// Stops the server and every process it started.
    func stop() {
        process.kill(reason: .shutdown)
        _ = process.wait()
        _ = sandbox
    }
}

struct TestServerError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

import ArgumentParser
import Foundation
import GraderRuntime
import ModelServer
import RewardServer

/// `rft serve-rewards`: sandboxed graders over HTTP for Bedrock-style, OpenRLHF and TRL clients.
struct ServeRewardsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-rewards",
        abstract: "Serve graders over HTTP (Bedrock batch invoke, OpenRLHF /get_reward, Prometheus /metrics).",
        discussion: """
        --graders takes a grader directory, a directory of grader directories, or a
        reward spec file (served under the file's base name).

        Endpoints:
          POST /v1/graders/{name}/invoke  Bedrock batch in, output list out
          POST /get_reward                OpenRLHF {query, prompts, labels}
          GET  /v1/graders, /healthz, /metrics (Prometheus)

        Binding anything but loopback needs --api-key-env NAME (bearer auth) or
        --insecure. SIGTERM or SIGINT stops accepting connections and drains the
        requests in flight. See docs/SERVER.md.

        Examples:
          rft serve-rewards --graders graders/bedrock-lambda --port 8080
          rft serve-rewards --graders reward.json \\
            --response-marker '<|im_start|>assistant\\n' --strip-suffix '<|im_end|>'
          RFT_API_KEY=secret rft serve-rewards --graders graders \\
            --host 0.0.0.0 --api-key-env RFT_API_KEY
          # OpenRLHF: --remote_rm_url http://HOST:8080/get_reward
        """
    )

    @Option(help: "A grader directory, a directory of graders, or a reward spec file.") var graders: String
    @Option(help: "The name a reward spec is served under (default: the spec file's base name).") var name: String?
    @OptionGroup var server: ServerOptions

    @Option(help: "The grader /get_reward uses (default: the first served).") var rewardGrader: String?
    @Option(help: "How an OpenRLHF label becomes reference_answer: string, json (parse when valid JSON), or field:NAME.")
    var label: String = "json"
    @Option(help: "Split the response from the query after the last occurrence of this marker (default: strip prompts[i] as a prefix).")
    var responseMarker: String?
    @Option(help: "Strip this suffix from responses (repeatable), e.g. an end-of-sequence token.") var stripSuffix: [String] = []
    @Option(help: "The /get_reward reward for a sample whose grading failed.") var errorReward: Double = 0
    @Option(help: "Most samples per request (413 beyond).") var maxBatch = 4096
    @Option(help: "Requests scored at once.") var maxConcurrent = 16

    @OptionGroup var degraded: DegradedModeOption

    func run() throws {
        degraded.apply()
        var openRLHF = OpenRLHFConfiguration()
        openRLHF.grader = rewardGrader
        switch label {
        case "string": openRLHF.labelMapping = .string
        case "json": openRLHF.labelMapping = .json
        case let s where s.hasPrefix("field:") && s.count > 6: openRLHF.labelMapping = .field(String(s.dropFirst(6)))
        default: throw ValidationError("--label must be string, json or field:NAME, got \"\(label)\"")
        }
        if let marker = responseMarker { openRLHF.responseSplit = .marker(marker.replacingOccurrences(of: "\\n", with: "\n")) }
        openRLHF.stripSuffixes = stripSuffix
        openRLHF.errorReward = errorReward
        var settings = try server.configuration()
        settings.maxBatchSize = maxBatch
        settings.maxConcurrentBatches = maxConcurrent
        do { try settings.validate() } catch { throw ValidationError("\(error)") }
        let config = settings

        let scorer: SandboxScorer
        do { scorer = try SandboxScorer(path: URL(fileURLWithPath: graders), specName: name) } catch {
            throw ServeError("\(error)")
        }
        defer { scorer.shutdown() }
        if let g = rewardGrader, !scorer.graders.contains(where: { $0.name == g }) {
            throw ValidationError("--reward-grader \(g) is not served (served: \(scorer.graders.map(\.name).joined(separator: ", ")))")
        }
        let rewardServer = RewardServer(scorer: scorer, configuration: config, openRLHF: openRLHF)
        try runUntilStopped {
            let running = try await rewardServer.start(signals: [.sigterm, .sigint])
            serveLog("rft reward server listening on http://\(config.host):\(running.port) "
                     + "(graders: \(scorer.graders.map(\.name).joined(separator: ", ")))")
            try await running.wait()
            serveLog("rft reward server stopped")
        }
    }
}

/// Bind, auth and limit options shared by `rft serve-rewards` and `rft serve` (only those that apply to both).
struct ServerOptions: ParsableArguments {
    @Option(help: "Address to bind; anything but loopback needs --api-key-env or --insecure.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0: any free port, printed at start).") var port = 8080
    @Option(help: "Environment variable holding the bearer token clients must send.") var apiKeyEnv: String?
    @Flag(help: "Allow a non-loopback bind without authentication.") var insecure = false
    @Option(help: "Largest request body in MiB (413 beyond).") var maxBodyMb = 16
    @Option(help: "Requests allowed to wait; beyond that 429 with Retry-After.") var maxQueue = 64
    @Option(help: "Per-request deadline in seconds, queueing included (504 beyond).") var deadline: Double = 120

    func configuration() throws -> ServerConfiguration {
        var c = ServerConfiguration()
        c.host = host
        c.port = port
        c.insecure = insecure
        if let name = apiKeyEnv {
            guard let key = ProcessInfo.processInfo.environment[name], !key.isEmpty else {
                throw ValidationError("--api-key-env \(name): the environment variable \(name) is not set or empty")
            }
            c.apiKey = key
        }
        c.maxBodyBytes = maxBodyMb << 20
        c.maxQueuedBatches = maxQueue
        guard deadline > 0, deadline.isFinite else { throw ValidationError("--deadline must be a positive number of seconds") }
        c.requestDeadline = .milliseconds(Int64(deadline * 1000))
        do { try c.validate() } catch { throw ValidationError("\(error)") }
        return c
    }
}

/// A server that could not start.
struct ServeError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

func serveLog(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Runs an async server body from a synchronous command, until it returns.
func runUntilStopped(_ body: @escaping @Sendable () async throws -> Void) throws {
    final class Box: @unchecked Sendable { var error: Error? }
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { try await body() } catch { box.error = error }
        done.signal()
    }
    done.wait()
    if let error = box.error { throw ServeError("\(error)") }
}

/// `rft serve --model CKPT`: an OpenAI-compatible endpoint for a trained policy.
struct ServeModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a checkpoint on an OpenAI-compatible API (chat completions with streaming, models).",
        discussion: """
        Endpoints: POST /v1/chat/completions (model, messages, max_tokens,
        temperature, top_p, n, stop, seed, stream as server-sent events),
        GET /v1/models, GET /healthz. Prompts are rendered in the checkpoint's
        chat format. Generations run one at a time; further requests wait, and
        get 429 with Retry-After once --max-queue are waiting. See docs/SERVER.md.

        Examples:
          rft serve --model runs/grpo-demo/final --port 8000
          curl localhost:8000/v1/chat/completions \\
            -d '{"messages": [{"role": "user", "content": "What is 12 + 30?"}]}'
          # any OpenAI client: base_url="http://127.0.0.1:8000/v1", model="final"
        """
    )

    @Option(help: "Checkpoint directory (rft or Hugging Face).") var model: String
    @Option(help: "The model id clients use (default: the checkpoint directory's name).") var name: String?
    @OptionGroup var server: ServerOptions

    func run() throws {
        let config = try server.configuration()
        let chat: ChatModel
        do { chat = try ChatModel(checkpoint: URL(fileURLWithPath: model), id: name) } catch { throw ServeError("\(model): \(error)") }
        let modelServer = ModelServer(model: chat, configuration: config)
        try runUntilStopped {
            let running = try await modelServer.start(signals: [.sigterm, .sigint])
            serveLog("rft model server listening on http://\(config.host):\(running.port)/v1 (model: \(chat.id))")
            try await running.wait()
            serveLog("rft model server stopped")
        }
    }
}

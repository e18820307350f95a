@_exported import ServerSupport
import GraderRuntime
import Hummingbird
import Logging
import UnixSignals

/// The reward server: graders over HTTP for Bedrock-style, OpenRLHF and TRL clients.
///
/// ```swift
/// let server = try await RewardServer(scorer: runtimeScorer, configuration: config).start()
/// print("listening on", server.port)
/// try await server.wait()
/// ```
public struct RewardServer: Sendable {
    public let scorer: any Scorer
    public let configuration: ServerConfiguration
    public let openRLHF: OpenRLHFConfiguration
    public let metrics = ServerMetrics()
    public var logger: Logger

    public init(scorer: any Scorer, configuration: ServerConfiguration = .init(),
                openRLHF: OpenRLHFConfiguration = .init(), logger: Logger = Logger(label: "rft.reward-server")) {
        self.scorer = scorer
        self.configuration = configuration
        self.openRLHF = openRLHF
        self.logger = logger
    }

    /// The router with every reward endpoint (and bearer auth when an API key is set).
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = HTTPServer.router(configuration)
        let gate = AdmissionGate(capacity: configuration.maxConcurrentBatches, queueLimit: configuration.maxQueuedBatches)
        RewardRoutes(scorer: scorer, configuration: configuration, openRLHF: openRLHF, metrics: metrics,
                     gate: gate, logger: logger).register(on: router)
        return router
    }

    /// Validates the configuration, binds, and returns once listening.
    public func start(signals: [UnixSignal] = []) async throws -> RunningServer {
        try await HTTPServer.start(router: makeRouter(), configuration: configuration, signals: signals, logger: logger)
    }
}

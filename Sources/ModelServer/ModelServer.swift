@_exported import ServerSupport
import Hummingbird
import Logging
import UnixSignals

/// An OpenAI-compatible server for a trained policy.
///
/// ```swift
/// let model = try ChatModel(checkpoint: URL(fileURLWithPath: "runs/grpo/final"))
/// let server = try await ModelServer(model: model).start()
/// ```
public struct ModelServer: Sendable {
    public let model: ChatModel
    public let configuration: ServerConfiguration
    public var logger: Logger

    public init(model: ChatModel, configuration: ServerConfiguration = .init(), logger: Logger = Logger(label: "rft.model-server")) {
        self.model = model
        self.configuration = configuration
        self.logger = logger
    }

    public func makeRouter() -> Router<BasicRequestContext> {
        let router = HTTPServer.router(configuration)
        // One generation at a time: the model uses every core it is given.
        let gate = AdmissionGate(capacity: 1, queueLimit: configuration.maxQueuedBatches)
        ChatRoutes(model: model, configuration: configuration, gate: gate).register(on: router)
        return router
    }

    /// Validates the configuration, binds, and returns once listening.
    public func start(signals: [UnixSignal] = []) async throws -> RunningServer {
        try await HTTPServer.start(router: makeRouter(), configuration: configuration, signals: signals, logger: logger)
    }
}

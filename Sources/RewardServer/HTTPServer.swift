import Foundation
import GraderRuntime
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// An HTTP server started by `HTTPServer.start`: its bound port, and a graceful stop.
public final class RunningServer: Sendable {
    /// The port actually bound (useful with port 0).
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    init(port: Int, group: ServiceGroup, task: Task<Void, Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// Stops accepting connections, lets in-flight requests finish, then returns.
    public func shutdown() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// Waits until the server stops (after a signal or `shutdown()`).
    public func wait() async throws { try await task.value }
}

/// Starts Hummingbird applications on a bound address and reports the port.
enum HTTPServer {
    /// Binds `router` on `host:port` and returns once it is listening. `signals` (SIGTERM, SIGINT for the
    /// CLI) trigger a graceful shutdown: no new connections, in-flight requests drain.
    static func start(router: Router<BasicRequestContext>, host: String, port: Int, signals: [UnixSignal],
                      logger: Logger) async throws -> RunningServer {
        let bound = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            server: .http1PinnedToEventLoop(),
            configuration: .init(address: .hostname(host, port: port), serverName: "rft"),
            onServerRunning: { channel in
                bound.continuation.yield(channel.localAddress?.port ?? port)
                bound.continuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: signals, logger: logger))
        let task = Task {
            defer { bound.continuation.finish() }
            try await group.run()
        }
        var iterator = bound.stream.makeAsyncIterator()
        guard let actual = await iterator.next() else {
            // The server stopped before it was listening: surface why (e.g. the address is in use).
            try await task.value
            throw ServerStartError(host: host, port: port)
        }
        return RunningServer(port: actual, group: group, task: task)
    }
}

/// The server stopped before it started listening.
public struct ServerStartError: Error, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var description: String { "the server could not listen on \(host):\(port)" }
}

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
        let router = Router()
        if let key = configuration.apiKey { router.add(middleware: BearerAuthMiddleware(key: key)) }
        let gate = AdmissionGate(capacity: configuration.maxConcurrentBatches, queueLimit: configuration.maxQueuedBatches)
        RewardRoutes(scorer: scorer, configuration: configuration, openRLHF: openRLHF, metrics: metrics,
                     gate: gate, logger: logger).register(on: router)
        return router
    }

    /// Validates the configuration, binds, and returns once listening.
    public func start(signals: [UnixSignal] = []) async throws -> RunningServer {
        try configuration.validate()
        return try await HTTPServer.start(router: makeRouter(), host: configuration.host, port: configuration.port,
                                          signals: signals, logger: logger)
    }
}

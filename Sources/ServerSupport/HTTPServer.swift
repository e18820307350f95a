import Foundation
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

    package init(port: Int, group: ServiceGroup, task: Task<Void, Error>) {
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

/// Starts Hummingbird applications on a bound address and reports the port (the reward and model servers).
package enum HTTPServer {
    /// An empty router, behind bearer auth when `configuration` has an API key.
    package static func router(_ configuration: ServerConfiguration) -> Router<BasicRequestContext> {
        let router = Router()
        if let key = configuration.apiKey { router.add(middleware: BearerAuthMiddleware(key: key)) }
        return router
    }

    /// Validates `configuration`, then binds `router` on its host and port (see the overload below).
    package static func start(router: Router<BasicRequestContext>, configuration: ServerConfiguration,
                              signals: [UnixSignal], logger: Logger) async throws -> RunningServer {
        try configuration.validate()
        return try await start(router: router, host: configuration.host, port: configuration.port,
                               signals: signals, logger: logger)
    }

    /// Binds `router` on `host:port` and returns once it is listening. `signals` (SIGTERM, SIGINT for the
    /// CLI) trigger a graceful shutdown: no new connections, in-flight requests drain.
    package static func start(router: Router<BasicRequestContext>, host: String, port: Int, signals: [UnixSignal],
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

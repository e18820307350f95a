/// How the server binds, authenticates and bounds its work.
public struct ServerConfiguration: Sendable {
    /// Address to bind. Loopback by default; anything else needs `apiKey` or `insecure`.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 picks a free ephemeral port (see `RunningServer.port`).
    public var port: Int = 8080
    /// Bearer token every request except `GET /healthz` must carry, when set.
    public var apiKey: String?
    /// Allow a non-loopback bind without an API key.
    public var insecure = false
    /// Largest request body accepted; larger bodies get 413.
    public var maxBodyBytes = 16 << 20
    /// Most samples in one request; more get 413.
    public var maxBatchSize = 4096
    /// Batches scored at once; further batches wait in the queue.
    public var maxConcurrentBatches = 16
    /// Batches allowed to wait; once full, requests get 429 with `Retry-After`.
    public var maxQueuedBatches = 64
    /// Seconds a client is told to wait in `Retry-After`.
    public var retryAfterSeconds = 1
    /// Deadline per request, queueing included; past it the request gets 504.
    public var requestDeadline: Duration = .seconds(120)

    public init() {}

    /// Throws unless the bind address is loopback, or authentication (or `insecure`) was chosen.
    public func validate() throws {
        if port < 0 || port > 65535 { throw ServerConfigurationError.invalidPort(port) }
        if maxConcurrentBatches < 1 { throw ServerConfigurationError.invalidLimit("max concurrent batches", maxConcurrentBatches) }
        if maxQueuedBatches < 0 { throw ServerConfigurationError.invalidLimit("max queued batches", maxQueuedBatches) }
        if maxBatchSize < 1 { throw ServerConfigurationError.invalidLimit("max batch size", maxBatchSize) }
        if let key = apiKey, key.isEmpty { throw ServerConfigurationError.emptyAPIKey }
        if !Self.isLoopback(host), apiKey == nil, !insecure { throw ServerConfigurationError.publicBindWithoutAuth(host) }
    }

    /// Whether `host` names a loopback address.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}

/// A server configuration that cannot be used.
public enum ServerConfigurationError: Error, CustomStringConvertible, Equatable {
    case publicBindWithoutAuth(String)
    case invalidPort(Int)
    case invalidLimit(String, Int)
    case emptyAPIKey

    public var description: String {
        switch self {
        case .publicBindWithoutAuth(let host):
            return "refusing to bind \(host) without authentication: pass --api-key-env NAME (bearer-token auth) or --insecure"
        case .invalidPort(let p): return "invalid port \(p): expected 0...65535"
        case .invalidLimit(let what, let v): return "invalid \(what) \(v)"
        case .emptyAPIKey: return "the API key is empty"
        }
    }
}

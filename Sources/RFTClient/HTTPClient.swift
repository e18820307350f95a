import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The one HTTP helper of rft's clients: blocking JSON POSTs over a private `URLSession`, for callers on
/// worker threads (a trainer's grading thread, `rft eval`'s sampler), never on Swift concurrency threads.
final class HTTPClient: @unchecked Sendable {
    /// What the server answered.
    struct Response {
        var status: Int
        var body: Data
        /// The `Retry-After` header, in seconds, when the server sent one.
        var retryAfter: Double?
    }

    /// Why no answer came back.
    struct Failure: Error, CustomStringConvertible {
        /// The request ran past its timeout (as opposed to a refused or dropped connection).
        var timedOut: Bool
        var description: String
    }

    private let session: URLSession
    private let timeout: TimeInterval

    /// - Parameters:
    ///   - timeout: seconds to wait for one response.
    ///   - maxConnectionsPerHost: concurrent connections to one server.
    init(timeout: TimeInterval, maxConnectionsPerHost: Int = 64) {
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = timeout
        c.httpMaximumConnectionsPerHost = maxConnectionsPerHost
        session = URLSession(configuration: c)
        self.timeout = timeout
    }

    deinit { session.finishTasksAndInvalidate() }

    /// POSTs a JSON `body` to `url` (with `Authorization: Bearer apiKey` when given) and waits for the answer.
    func postJSON(_ url: URL, body: Data, apiKey: String?) -> Result<Response, Failure> {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }

        final class Box: @unchecked Sendable { var value: Result<Response, Failure>? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: request) { data, response, error in
            if let error {
                box.value = .failure(Failure(timedOut: (error as? URLError)?.code == .timedOut, description: error.localizedDescription))
            } else {
                let http = response as? HTTPURLResponse
                box.value = .success(Response(status: http?.statusCode ?? 0, body: data ?? Data(),
                                              retryAfter: http?.value(forHTTPHeaderField: "Retry-After").flatMap(Double.init)))
            }
            done.signal()
        }.resume()
        done.wait()
        return box.value ?? .failure(Failure(timedOut: false, description: "no response"))
    }
}

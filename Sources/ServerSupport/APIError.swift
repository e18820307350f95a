import GraderRuntime
import Hummingbird
import JSON

/// An error answered as an HTTP status with a JSON body `{"error": {"type", "message"}}`.
public struct APIError: Error, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var type: String
    public var message: String
    public var headers: HTTPFields = [:]

    public var description: String { "\(status.code) \(type): \(message)" }

    package init(status: HTTPResponse.Status, type: String, message: String, headers: HTTPFields = [:]) {
        self.status = status; self.type = type; self.message = message; self.headers = headers
    }

    package static func badRequest(_ message: String) -> APIError { .init(status: .badRequest, type: "bad_request", message: message) }
    package static func notFound(_ message: String) -> APIError { .init(status: .notFound, type: "not_found", message: message) }
    package static func tooLarge(_ message: String) -> APIError { .init(status: .contentTooLarge, type: "too_large", message: message) }
    package static func unauthorized(_ message: String) -> APIError {
        .init(status: .unauthorized, type: "unauthorized", message: message, headers: [.wwwAuthenticate: "Bearer"])
    }
    package static func throttled(retryAfter: Int, _ message: String) -> APIError {
        .init(status: .tooManyRequests, type: "throttled", message: message, headers: [.retryAfter: String(retryAfter)])
    }
    package static func deadline(_ message: String) -> APIError { .init(status: .gatewayTimeout, type: "deadline_exceeded", message: message) }
    package static func unavailable(_ message: String) -> APIError { .init(status: .serviceUnavailable, type: "unavailable", message: message) }

    package var response: Response {
        let body: JSONValue = ["error": ["type": .string(type), "message": .string(message)]]
        var response = Response.json(body, status: status)
        for field in headers { response.headers.append(field) }
        return response
    }
}

extension Response {
    /// A JSON response.
    package static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        let bytes = value.jsonBytes()
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    package static func text(_ text: String, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension Request {
    /// The whole body, or 413 past `limit` bytes.
    package mutating func collectBody(limit: Int) async throws -> ByteBuffer {
        if let length = headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.tooLarge("request body of \(length) bytes exceeds the limit of \(limit) bytes")
        }
        do {
            return try await collectBody(upTo: limit)
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            throw APIError.tooLarge("request body exceeds the limit of \(limit) bytes")
        }
    }

    /// The body parsed as JSON; 400 naming line and column when it is not.
    package mutating func jsonBody(limit: Int) async throws -> JSONValue {
        let buffer = try await collectBody(limit: limit)
        return try buffer.withUnsafeReadableBytes { try Self.parseJSON($0) }
    }

    /// `body` parsed as JSON; 400 naming line and column when it is not.
    package static func parseJSON(_ body: UnsafeRawBufferPointer) throws -> JSONValue {
        if body.isEmpty { throw APIError.badRequest("empty request body, expected JSON") }
        do {
            return try JSONValue.parse(body)
        } catch let error as JSONParseError {
            throw APIError.badRequest("malformed JSON body at \(error)")
        }
    }
}

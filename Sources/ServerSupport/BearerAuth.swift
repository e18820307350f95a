import Hummingbird

/// Requires `Authorization: Bearer <key>` on every request except `GET /healthz`.
package struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: [UInt8]

    package init(key: String) { self.key = Array(key.utf8) }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        guard let header = request.headers[.authorization] else {
            return APIError.unauthorized("missing Authorization: Bearer header").response
        }
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), constantTimeEqual(Array(header.utf8.dropFirst(prefix.utf8.count)), key) else {
            return APIError.unauthorized("invalid bearer token").response
        }
        return try await next(request, context)
    }

    /// Compares without an early exit, so timing does not reveal how much of the key matched.
    private func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}

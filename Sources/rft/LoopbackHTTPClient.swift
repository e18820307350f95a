import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 keep-alive client for load tests against 127.0.0.1: one connection,
/// `Content-Length` bodies only. Cheap enough that the load generator does not hide the server's cost.
final class LoopbackHTTPClient {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    struct ClientError: Error, CustomStringConvertible { var description: String }

    let port: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    init(port: Int) { self.port = port }
    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        buffer.removeAll()
    }

    private func connect() throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let e = String(cString: strerror(errno))
            close()
            throw ClientError(description: "connect 127.0.0.1:\(port): \(e)")
        }
    }

    /// POSTs `body` to `path`, reconnecting once when a kept-alive connection was closed by the server.
    func post(_ path: String, body: [UInt8], headers: [String: String] = [:]) throws -> Response {
        do { return try attempt(path, body, headers) } catch {
            close()
            return try attempt(path, body, headers)
        }
    }

    private func attempt(_ path: String, _ body: [UInt8], _ headers: [String: String]) throws -> Response {
        if fd < 0 { try connect() }
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        try writeAll(Array(head.utf8) + body)
        return try readResponse()
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ClientError(description: "send: \(String(cString: strerror(errno)))") }
            off += n
        }
    }

    private var chunk = [UInt8](repeating: 0, count: 65536)

    private func fill() throws {
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, 65536, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ClientError(description: n == 0 ? "connection closed" : "recv: \(String(cString: strerror(errno)))") }
            buffer.append(contentsOf: chunk[0..<n])
            return
        }
    }

    private func readResponse() throws -> Response {
        let crlf2: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            if buffer.count >= 4 {
                for i in 0...(buffer.count - 4) where buffer[i] == 13 && Array(buffer[i..<i + 4]) == crlf2 { headerEnd = i; break }
            }
            if headerEnd == nil { try fill() }
        }
        let headText = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw ClientError(description: "bad status line \(headText.prefix(80))")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard let length = headers["content-length"].flatMap(Int.init) else {
            throw ClientError(description: "response without Content-Length")
        }
        let start = headerEnd! + 4
        while buffer.count < start + length { try fill() }
        let body = Array(buffer[start..<start + length])
        buffer.removeFirst(start + length)
        if headers["connection"]?.lowercased() == "close" { close() }
        return Response(status: status, headers: headers, body: body)
    }
}

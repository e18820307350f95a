import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Length-prefixed frames (4-byte big-endian length, then JSON) on the worker's dedicated pipes,
/// with deadlines on the runtime's monotonic clock. Nothing here blocks past a deadline.
enum FrameChannel {
    /// Largest response frame accepted; a larger header is a protocol violation.
    static let maxFrameBytes = 64 << 20

    enum ReadResult { case frame([UInt8]), eof, timeout, violation(String) }

    /// Nanoseconds on the monotonic clock.
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Milliseconds left until `deadline` (at least 0).
    static func remainingMs(_ deadline: UInt64) -> Int32 {
        let n = now()
        return n >= deadline ? 0 : Int32(min((deadline - n) / 1_000_000 + 1, UInt64(Int32.max)))
    }

    /// Starts a frame: 4 placeholder bytes for the length, then the payload is appended by the caller.
    static func begin(capacity: Int) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0, 0]
        bytes.reserveCapacity(capacity + 4)
        return bytes
    }

    /// Writes a frame made with ``begin(capacity:)`` (fills in its length); false when the deadline passed
    /// or the reader is gone.
    static func write(_ fd: Int32, frame: inout [UInt8], deadline: UInt64) -> Bool {
        let n = UInt32(frame.count - 4)
        frame[0] = UInt8(n >> 24); frame[1] = UInt8((n >> 16) & 0xff); frame[2] = UInt8((n >> 8) & 0xff); frame[3] = UInt8(n & 0xff)
        return writeAll(fd, frame, deadline: deadline)
    }

    /// Writes all of `bytes` to a (non-blocking) pipe before `deadline`; false when it passed or the
    /// reader is gone. Shared by the frame channel, exec graders' stdin and the exec service.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], deadline: UInt64) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        if flags & O_NONBLOCK == 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
        var off = 0
        return bytes.withUnsafeBytes { buf -> Bool in
            while off < buf.count {
                let w = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                if w > 0 { off += w; continue }
                if w < 0 && errno == EINTR { continue }
                guard w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) else { return false }
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ms = remainingMs(deadline)
                if ms == 0 { return false }
                let r = poll(&p, 1, ms)
                if r < 0 && errno != EINTR { return false }
                if r > 0 && p.revents & Int16(POLLERR | POLLHUP) != 0 && p.revents & Int16(POLLOUT) == 0 { return false }
            }
            return true
        }
    }

    /// Reads one frame before `deadline`.
    static func read(_ fd: Int32, deadline: UInt64, buffer: inout [UInt8]) -> ReadResult {
        // `buffer` keeps bytes read past the end of a frame (there should be none in a correct protocol).
        var need = 4
        var length: Int?
        while true {
            if length == nil, buffer.count >= 4 {
                let n = Int(buffer[0]) << 24 | Int(buffer[1]) << 16 | Int(buffer[2]) << 8 | Int(buffer[3])
                if n > maxFrameBytes { return .violation("response frame of \(n) bytes exceeds the \(maxFrameBytes)-byte limit") }
                length = n
                need = 4 + n
            }
            if let length, buffer.count >= need {
                let frame = Array(buffer[4..<(4 + length)])
                buffer.removeFirst(4 + length)
                return .frame(frame)
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = remainingMs(deadline)
            if ms == 0 { return .timeout }
            let r = poll(&p, 1, ms)
            if r < 0 { if errno == EINTR { continue }; return .violation("poll failed: \(String(cString: strerror(errno)))") }
            if r == 0 { continue }
            // Read straight into the buffer's spare capacity (no zero-filled scratch array per call).
            let want = max(need - buffer.count, 1 << 16)
            let old = buffer.count
            var got = 0
            buffer.append(contentsOf: repeatElement(0, count: want))
            got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + old, want) }
            buffer.removeLast(want - max(got, 0))
            if got < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .eof
            }
            if got == 0 { return buffer.isEmpty ? .eof : .violation("the channel closed in the middle of a frame") }
        }
    }
}

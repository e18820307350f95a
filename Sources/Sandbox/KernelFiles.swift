import Foundation

// Small readers and writers for kernel files (cgroupfs, procfs), with no Foundation file APIs:
// each opens with O_CLOEXEC and closes before returning.

/// Writes `text` to the existing file at `path` (no create, no truncate), as cgroupfs expects;
/// throws a `SandboxError` of the cgroup layer naming the path and errno.
func write(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SandboxError(layer: "cgroup", message: "open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    let n = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    guard n >= 0 else { throw SandboxError(layer: "cgroup", message: "write \(path): \(String(cString: strerror(errno)))") }
}

/// The whole text of the file at `path`, or nil when it cannot be opened.
func readText(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}

/// The names of the subdirectories of `path` (without "." and ".."); empty when it cannot be read.
func listDirectory(_ path: String) -> [String] {
    guard let d = opendir(path) else { return [] }
    defer { closedir(d) }
    var out: [String] = []
    while let e = readdir(d) {
        let name = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
        if name != "." && name != ".." && e.pointee.d_type == UInt8(DT_DIR) { out.append(name) }
    }
    return out
}

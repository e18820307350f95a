import Glibc

/// C strings and arrays that must stay at fixed addresses while the spawn shim runs.
final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    func string(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        blocks.append(UnsafeMutableRawPointer(p))
        return p
    }

    func optionalString(_ s: String?) -> UnsafePointer<CChar>? { s.map { UnsafePointer(string($0)) } }

    /// A NULL-terminated array of C strings.
    func stringArray(_ items: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let p = array(of: UnsafeMutablePointer<CChar>?.self, count: items.count + 1)
        for (i, s) in items.enumerated() { p[i] = string(s) }
        p[items.count] = nil
        return p
    }

    func array<T>(of: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let raw = malloc(max(1, count) * MemoryLayout<T>.stride)!
        blocks.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(1, count))
    }

    func copy<T>(_ items: [T]) -> UnsafeMutablePointer<T> {
        let p = array(of: T.self, count: items.count)
        for (i, x) in items.enumerated() { (p + i).initialize(to: x) }
        return p
    }

    deinit { for b in blocks { free(b) } }
}

extension JSONValue {
    /// How the writer spells the numbers JSON cannot hold (NaN, +infinity, -infinity).
    public enum NonFiniteNumbers: Sendable {
        /// `null`, which every JSON reader accepts (the default; grader input, HTTP bodies, `--json` output).
        case null
        /// `NaN`, `Infinity` and `-Infinity`, as Python's `json` module writes them: for run files and report
        /// text where a diverging run's NaN must stay visible. Read back with `parse(_:allowNonFinite: true)`.
        case literals
    }

    /// Compact JSON bytes. Non-finite numbers are written as `null` (they are never valid JSON).
    public func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }

    /// Compact JSON text.
    public var jsonString: String { String(decoding: jsonBytes(), as: UTF8.self) }

    /// JSON text for files people read and diff (run files, configs, `--json` output).
    ///
    /// - Parameters:
    ///   - sortedKeys: write object keys in sorted order instead of insertion order.
    ///   - pretty: one member per line, indented by two spaces, as `"key" : value`
    ///     (the layout Foundation's `JSONEncoder` writes); otherwise one line, fit for JSONL.
    ///   - nonFinite: how NaN and infinities are written (`null` unless asked otherwise).
    public func jsonString(sortedKeys: Bool, pretty: Bool = false, nonFinite: NonFiniteNumbers = .null) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out, sortedKeys: sortedKeys, indent: pretty ? 0 : nil, nonFinite: nonFinite)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends this value's compact JSON to `out` (the fast path: insertion order, non-finite numbers as `null`).
    public func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let d): JSONValue.writeNumber(d, into: &out)
        case .string(let s): JSONValue.writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                v.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (k, v) in o {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                v.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private func writeString(_ s: String, into out: inout [UInt8]) { JSONValue.writeString(s, into: &out) }

    /// The general form of ``write(into:)``: `indent` is the current depth when pretty-printing, nil for compact.
    private func write(into out: inout [UInt8], sortedKeys: Bool, indent: Int?, nonFinite: NonFiniteNumbers) {
        func newline(_ depth: Int) {
            out.append(0x0A)
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * depth))
        }
        switch self {
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                if let indent { newline(indent + 1) }
                v.write(into: &out, sortedKeys: sortedKeys, indent: indent.map { $0 + 1 }, nonFinite: nonFinite)
            }
            if let indent { if a.isEmpty { newline(0) }; newline(indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            let members = sortedKeys ? o.sorted { $0.key < $1.key } : Array(o)
            for (k, m) in members.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                if let indent { newline(indent + 1) }
                writeString(m.key, into: &out)
                out.append(contentsOf: indent == nil ? [UInt8(ascii: ":")] : Array(" : ".utf8))
                m.value.write(into: &out, sortedKeys: sortedKeys, indent: indent.map { $0 + 1 }, nonFinite: nonFinite)
            }
            if let indent { if members.isEmpty { newline(0) }; newline(indent) }
            out.append(UInt8(ascii: "}"))
        case .number(let d) where !d.isFinite && nonFinite == .literals:
            out.append(contentsOf: (d.isNaN ? "NaN" : d > 0 ? "Infinity" : "-Infinity").utf8)
        default:
            write(into: &out)
        }
    }

    /// Integral values below 2^53 as integers (`3`, not `3.0`); others in Swift's shortest round-trip form.
    public static func writeNumber(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else { out.append(contentsOf: "null".utf8); return }
        if d == d.rounded(), abs(d) < 9.007_199_254_740_992e15 {
            out.append(contentsOf: String(Int64(d)).utf8)
        } else {
            out.append(contentsOf: "\(d)".utf8)
        }
    }

    /// A quoted string: `"`, `\\`, newline, return and tab escaped by name, other control characters as `\\u00XX`.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Fast path: nothing to escape, copy the UTF-8 bytes in one go.
        let clean = s.utf8.withContiguousStorageIfAvailable { buf in
            buf.allSatisfy { $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }
        }
        if clean == true {
            out.append(contentsOf: s.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

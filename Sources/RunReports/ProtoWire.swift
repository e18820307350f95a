/// The few protobuf wire-format pieces the Event proto needs (encode and decode, unknown fields skipped).
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ wireType: ProtoWireType) { varint(UInt64(field << 3 | wireType.rawValue)) }

    mutating func double(_ field: Int, _ value: Double) {
        tag(field, .fixed64); bytes += TFRecord.littleEndian(value.bitPattern)
    }

    mutating func float(_ field: Int, _ value: Float) {
        tag(field, .fixed32); bytes += TFRecord.littleEndian(value.bitPattern)
    }

    mutating func int64(_ field: Int, _ value: Int64) {
        tag(field, .varint); varint(UInt64(bitPattern: value))
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        tag(field, .lengthDelimited); varint(UInt64(value.count)); bytes += value
    }

    mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }
}

enum ProtoWireType: Int {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
}

/// One decoded field: its number and value.
enum ProtoField {
    case varint(Int, UInt64)
    case fixed64(Int, UInt64)
    case fixed32(Int, UInt32)
    case bytes(Int, ArraySlice<UInt8>)
}

/// A malformed protobuf message.
public struct ProtoDecodingError: Error, Equatable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "malformed protobuf at byte \(offset): \(reason)" }
}

/// Reads the fields of one message in order.
struct ProtoReader {
    private let data: ArraySlice<UInt8>
    private var i: Int

    init(_ data: ArraySlice<UInt8>) { self.data = data; self.i = data.startIndex }

    mutating func next() throws -> ProtoField? {
        guard i < data.endIndex else { return nil }
        let key = try varint()
        let field = Int(key >> 3)
        switch key & 7 {
        case 0: return .varint(field, try varint())
        case 1: return .fixed64(field, UInt64(try fixed(8)))
        case 5: return .fixed32(field, UInt32(try fixed(4)))
        case 2:
            let n = Int(clamping: try varint())
            guard n <= data.endIndex - i else { throw ProtoDecodingError(offset: i, reason: "length \(n) past end") }
            defer { i += n }
            return .bytes(field, data[i..<i + n])
        case let t: throw ProtoDecodingError(offset: i, reason: "unsupported wire type \(t)")
        }
    }

    private mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard i < data.endIndex, shift < 64 else { throw ProtoDecodingError(offset: i, reason: "bad varint") }
            let b = data[i]; i += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    private mutating func fixed(_ n: Int) throws -> UInt64 {
        guard data.endIndex - i >= n else { throw ProtoDecodingError(offset: i, reason: "fixed\(n * 8) past end") }
        defer { i += n }
        return (0..<n).reduce(UInt64(0)) { $0 | UInt64(data[i + $1]) << ($1 * 8) }
    }
}

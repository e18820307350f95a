/// TFRecord framing: `uint64 length`, `uint32 masked_crc32c(length)`, `data`, `uint32 masked_crc32c(data)`,
/// all little-endian. This is the container TensorBoard event files use.
public enum TFRecord {
    /// One framed record holding `payload`.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 16)
        let header = littleEndian(UInt64(payload.count))
        out += header
        out += littleEndian(CRC32C.masked(header))
        out += payload
        out += littleEndian(CRC32C.masked(payload))
        return out
    }

    /// Splits `bytes` into record payloads, verifying both CRCs of every record.
    /// - Throws: `TFRecordError` naming the byte offset of the first bad record.
    public static func records(in bytes: [UInt8]) throws -> [[UInt8]] {
        var records: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 12 else { throw TFRecordError.truncated(offset: offset) }
            let header = Array(bytes[offset..<offset + 8])
            let length = readUInt64(bytes, at: offset)
            let headerCRC = readUInt32(bytes, at: offset + 8)
            guard headerCRC == CRC32C.masked(header) else { throw TFRecordError.badLengthCRC(offset: offset) }
            guard bytes.count - offset >= 16, length <= UInt64(bytes.count - offset - 16) else {
                throw TFRecordError.truncated(offset: offset)
            }
            let start = offset + 12, end = start + Int(length)
            let payload = Array(bytes[start..<end])
            guard readUInt32(bytes, at: end) == CRC32C.masked(payload) else {
                throw TFRecordError.badDataCRC(offset: offset)
            }
            records.append(payload)
            offset = end + 4
        }
        return records
    }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<T.bitWidth / 8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    static func readUInt64(_ b: [UInt8], at i: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[i + $1]) << ($1 * 8) }
    }

    static func readUInt32(_ b: [UInt8], at i: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[i + $1]) << ($1 * 8) }
    }
}

/// A TFRecord stream that does not frame or checksum correctly.
public enum TFRecordError: Error, Equatable, CustomStringConvertible {
    case truncated(offset: Int)
    case badLengthCRC(offset: Int)
    case badDataCRC(offset: Int)

    public var description: String {
        switch self {
        case .truncated(let o): return "TFRecord truncated at byte \(o)"
        case .badLengthCRC(let o): return "TFRecord length CRC mismatch in the record at byte \(o)"
        case .badDataCRC(let o): return "TFRecord data CRC mismatch in the record at byte \(o)"
        }
    }
}

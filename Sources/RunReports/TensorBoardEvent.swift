/// One TensorBoard `Event` record, limited to what rft writes: wall time, step, the file version
/// header, and scalar summaries (`Summary.Value.simple_value`).
public struct TensorBoardEvent: Equatable, Sendable {
    public var wallTime: Double
    public var step: Int64
    /// `"brain.Event:2"` in a file's first record, nil otherwise.
    public var fileVersion: String?
    /// Scalar values by tag, in file order.
    public var scalars: [TensorBoardScalar]

    public init(wallTime: Double, step: Int64, fileVersion: String? = nil, scalars: [TensorBoardScalar] = []) {
        self.wallTime = wallTime
        self.step = step
        self.fileVersion = fileVersion
        self.scalars = scalars
    }

    /// The protobuf encoding: `wall_time`=1 (double), `step`=2 (int64), `file_version`=3 (string),
    /// `summary`=5 → `Summary.value`=1 → `Value{tag=1 (string), simple_value=2 (float)}`.
    public func encoded() -> [UInt8] {
        var event = ProtoWriter()
        event.double(1, wallTime)
        event.int64(2, step)
        if let fileVersion { event.string(3, fileVersion) }
        if !scalars.isEmpty {
            var summary = ProtoWriter()
            for scalar in scalars {
                var value = ProtoWriter()
                value.string(1, scalar.tag)
                value.float(2, scalar.value)
                summary.bytes(1, value.bytes)
            }
            event.bytes(5, summary.bytes)
        }
        return event.bytes
    }

    /// Decodes an `Event`, skipping fields rft does not use.
    public init(decoding bytes: ArraySlice<UInt8>) throws {
        self.init(wallTime: 0, step: 0)
        var reader = ProtoReader(bytes)
        while let field = try reader.next() {
            switch field {
            case .fixed64(1, let bits): wallTime = Double(bitPattern: bits)
            case .varint(2, let v): step = Int64(bitPattern: v)
            case .bytes(3, let s): fileVersion = String(decoding: s, as: UTF8.self)
            case .bytes(5, let summary): scalars += try Self.decodeSummary(summary)
            default: continue
            }
        }
    }

    private static func decodeSummary(_ bytes: ArraySlice<UInt8>) throws -> [TensorBoardScalar] {
        var out: [TensorBoardScalar] = []
        var reader = ProtoReader(bytes)
        while let field = try reader.next() {
            guard case .bytes(1, let valueBytes) = field else { continue }
            var tag = "", simple: Float?
            var value = ProtoReader(valueBytes)
            while let f = try value.next() {
                switch f {
                case .bytes(1, let s): tag = String(decoding: s, as: UTF8.self)
                case .fixed32(2, let bits): simple = Float(bitPattern: bits)
                default: continue
                }
            }
            if let simple { out.append(TensorBoardScalar(tag: tag, value: simple)) }
        }
        return out
    }
}

/// A scalar summary value: `tag` and its 32-bit `simple_value`.
public struct TensorBoardScalar: Equatable, Sendable {
    public var tag: String
    public var value: Float
    public init(tag: String, value: Float) { self.tag = tag; self.value = value }
}

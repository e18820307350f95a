import Foundation

/// A tensor's entry in a safetensors header.
public struct SafeTensorInfo: Equatable, Sendable {
    /// Element type as spelled in the header: `F32`, `F16`, `BF16`, `F64`, ...
    public var dtype: String
    public var shape: [Int]
    /// Byte range inside the data section (after the header).
    public var dataOffsets: Range<Int>
    public var count: Int { shape.reduce(1, *) }
}

/// A safetensors file opened for reading (memory-mapped).
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of JSON
/// (`{"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}`), then the data.
/// `F32` is read as is; `F16`, `BF16` and `F64` are converted to `Float`.
public struct SafeTensorsFile: @unchecked Sendable {
    public let path: String
    public let tensors: [String: SafeTensorInfo]
    /// The optional `__metadata__` string map.
    public let metadata: [String: String]
    private let data: Data
    private let dataStart: Int

    /// Opens and validates `url`: the header must parse, and every tensor's byte range
    /// must match its dtype and shape and lie inside the file.
    public init(contentsOf url: URL) throws {
        let path = url.path
        let data = try ModelIOError.read(url, mapped: true)
        try self.init(data: data, path: path)
    }

    /// Parses safetensors bytes already in memory; `path` is used in error messages.
    public init(data: Data, path: String) throws {
        func bad(_ d: String) -> ModelIOError { .malformed(path: path, detail: d) }
        guard data.count >= 8 else { throw bad("file is \(data.count) bytes, shorter than the 8-byte header length") }
        var n: UInt64 = 0
        for i in (0..<8).reversed() { n = n << 8 | UInt64(data[data.startIndex + i]) }
        guard n <= UInt64(data.count - 8) else { throw bad("header length \(n) runs past the end of the file (\(data.count) bytes)") }
        let headerEnd = 8 + Int(n)
        let header = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + headerEnd))
        guard let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw bad("header is not a JSON object")
        }
        let dataSize = data.count - headerEnd
        var tensors: [String: SafeTensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in json {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw bad("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw bad("__metadata__['\(k)'] is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any],
                  let dtype = entry["dtype"] as? String,
                  let shapeAny = entry["shape"] as? [Any],
                  let offsetsAny = entry["data_offsets"] as? [Any], offsetsAny.count == 2 else {
                throw bad("tensor '\(name)' needs dtype, shape and two data_offsets")
            }
            let shape = shapeAny.compactMap { ($0 as? NSNumber)?.intValue }
            let offsets = offsetsAny.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeAny.count, shape.allSatisfy({ $0 >= 0 }),
                  offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw bad("tensor '\(name)' has a bad shape or data_offsets")
            }
            guard offsets[1] <= dataSize else {
                throw bad("tensor '\(name)' data_offsets \(offsets) run past the data section (\(dataSize) bytes)")
            }
            let info = SafeTensorInfo(dtype: dtype, shape: shape, dataOffsets: offsets[0]..<offsets[1])
            if let size = Self.elementSize(dtype), info.count * size != info.dataOffsets.count {
                throw bad("tensor '\(name)': \(dtype) \(shape) needs \(info.count * size) bytes, data_offsets give \(info.dataOffsets.count)")
            }
            tensors[name] = info
        }
        self.path = path
        self.tensors = tensors
        self.metadata = metadata
        self.data = data
        self.dataStart = headerEnd
    }

    static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F64", "I64", "U64": return 8
        case "F32", "I32", "U32": return 4
        case "F16", "BF16", "I16", "U16": return 2
        case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2": return 1
        default: return nil
        }
    }

    /// Copies tensor `name` into `out`, converting to `Float`; `out.count` must equal the
    /// tensor's element count and, when given, `shape` must equal its shape.
    public func read(_ name: String, into out: UnsafeMutableBufferPointer<Float>, shape: [Int]? = nil) throws {
        guard let info = tensors[name] else { throw ModelIOError.missingTensor(path: path, tensor: name) }
        if let shape, shape != info.shape {
            throw ModelIOError.shapeMismatch(path: path, tensor: name, expected: shape, found: info.shape)
        }
        guard info.count == out.count else {
            throw ModelIOError.shapeMismatch(path: path, tensor: name, expected: [out.count], found: info.shape)
        }
        if out.isEmpty { return }
        let start = data.startIndex + dataStart + info.dataOffsets.lowerBound
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let src = UnsafeRawBufferPointer(rebasing: raw[(start - data.startIndex)..<(start - data.startIndex + info.dataOffsets.count)])
            switch info.dtype {
            case "F32":
                _ = memcpy(out.baseAddress!, src.baseAddress!, src.count)   // little-endian host
            case "F64":
                for i in 0..<out.count { out[i] = Float(src.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
            case "BF16":
                for i in 0..<out.count {
                    let h = src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)
                    out[i] = Float(bitPattern: UInt32(h) << 16)
                }
            case "F16":
                for i in 0..<out.count { out[i] = Self.halfToFloat(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
            default:
                throw ModelIOError.unsupported(path: path, detail: "tensor '\(name)' has dtype \(info.dtype) (F32, F16, BF16 or F64 needed)")
            }
        }
    }

    /// Tensor `name` as a new `[Float]`.
    public func floats(_ name: String, shape: [Int]? = nil) throws -> [Float] {
        guard let info = tensors[name] else { throw ModelIOError.missingTensor(path: path, tensor: name) }
        var out = [Float](repeating: 0, count: info.count)
        try out.withUnsafeMutableBufferPointer { try read(name, into: $0, shape: shape) }
        return out
    }

    /// IEEE 754 binary16 → binary32, exact (subnormals, infinities and NaN included).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exp = Int((h >> 10) & 0x1F)
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            let v = Float(mant) * 0x1p-24
            return sign == 0 ? v : -v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
    }
}

/// Writes safetensors files (F32 only).
public enum SafeTensorsWriter {
    /// One tensor to write: its name, shape, and `shape.product` floats.
    public struct Entry {
        public var name: String
        public var shape: [Int]
        public var data: UnsafeBufferPointer<Float>
        public init(name: String, shape: [Int], data: UnsafeBufferPointer<Float>) {
            self.name = name; self.shape = shape; self.data = data
        }
    }

    /// Writes `entries` (in the given order) to `url` atomically. Tensor names must be unique
    /// and each `data.count` must match its shape.
    public static func write(_ entries: [Entry], metadata: [String: String] = [:], to url: URL) throws {
        let path = url.path
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for e in entries {
            guard e.data.count == e.shape.reduce(1, *) else {
                throw ModelIOError.shapeMismatch(path: path, tensor: e.name, expected: e.shape, found: [e.data.count])
            }
            guard header[e.name] == nil, e.name != "__metadata__" else {
                throw ModelIOError.writeFailed(path: path, detail: "duplicate tensor name '\(e.name)'")
            }
            header[e.name] = ["dtype": "F32", "shape": e.shape, "data_offsets": [offset, offset + e.data.count * 4]]
            offset += e.data.count * 4
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data section starts 8-byte aligned.
        while json.count % 8 != 0 { json.append(0x20) }
        var head = Data(capacity: 8 + json.count)
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { head.append(contentsOf: $0) }
        head.append(json)
        // Stream the tensors into a temporary file next to the target, then rename it into
        // place: no second copy of the weights in memory, and readers never see half a file.
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        guard FileManager.default.createFile(atPath: tmp.path, contents: head) else {
            throw ModelIOError.writeFailed(path: path, detail: "cannot create \(tmp.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: tmp)
            defer { try? handle.close() }
            try handle.seekToEnd()
            for e in entries where e.data.count > 0 {
                try handle.write(contentsOf: UnsafeRawBufferPointer(e.data))
            }
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw ModelIOError.writeFailed(path: path, detail: error.localizedDescription)
        }
        guard rename(tmp.path, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw ModelIOError.writeFailed(path: path, detail: reason)
        }
    }
}

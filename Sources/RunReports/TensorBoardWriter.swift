import Foundation

/// Writes scalar metrics as a TensorBoard event file (`events.out.tfevents.<unix>.<hostname>`) in a
/// run directory, so `tensorboard --logdir runs/` shows every metric.
///
/// ```swift
/// let tb = try TensorBoardWriter(directory: runDir)
/// tb.add(scalars: ["reward": 0.42, "kl": 0.01], step: 7, wallTime: Date().timeIntervalSince1970)
/// tb.close()
/// ```
/// Writes are buffered; the buffer goes to disk on `flush()`, on `close()`, and at most every
/// `flushInterval` seconds from `add`, so a live TensorBoard sees a running job. Not thread-safe:
/// call it from one thread (the training loop).
public final class TensorBoardWriter {
    /// The event file being written.
    public let fileURL: URL
    /// Seconds between automatic flushes from `add` (default 2).
    public var flushInterval: Double = 2
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var lastFlush = Date()
    private var closed = false

    /// Creates the directory if needed and a new event file in it, starting with the
    /// `brain.Event:2` version record.
    /// - Throws: `TensorBoardWriterError.cannotCreate` naming the path.
    public init(directory: URL, wallTime: Double = Date().timeIntervalSince1970) throws {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TensorBoardWriterError.cannotCreate(path: directory.path, reason: "\(error)")
        }
        let base = "events.out.tfevents.\(Int(wallTime)).\(Self.hostname())"
        var url = directory.appendingPathComponent(base)
        var n = 1
        while fm.fileExists(atPath: url.path) {
            url = directory.appendingPathComponent("\(base).\(n)"); n += 1
        }
        guard fm.createFile(atPath: url.path, contents: nil), let h = FileHandle(forWritingAtPath: url.path) else {
            throw TensorBoardWriterError.cannotCreate(path: url.path, reason: "cannot open for writing")
        }
        fileURL = url
        handle = h
        buffer = TFRecord.frame(TensorBoardEvent(wallTime: wallTime, step: 0, fileVersion: "brain.Event:2").encoded())
        flush()
    }

    deinit { close() }

    /// Appends one event holding every scalar (as 32-bit floats, keys sorted).
    public func add(scalars: [String: Double], step: Int, wallTime: Double = Date().timeIntervalSince1970) {
        guard !closed, !scalars.isEmpty else { return }
        let values = scalars.keys.sorted().map { TensorBoardScalar(tag: $0, value: Float(scalars[$0]!)) }
        buffer += TFRecord.frame(TensorBoardEvent(wallTime: wallTime, step: Int64(step), scalars: values).encoded())
        if Date().timeIntervalSince(lastFlush) >= flushInterval { flush() }
    }

    /// Writes buffered events to disk.
    public func flush() {
        guard !closed else { return }
        if !buffer.isEmpty {
            handle.write(Data(buffer))
            buffer.removeAll(keepingCapacity: true)
        }
        lastFlush = Date()
    }

    /// Flushes and closes the file; later calls to `add` are ignored.
    public func close() {
        guard !closed else { return }
        flush()
        try? handle.close()
        closed = true
    }

    private static func hostname() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count) == 0 else { return "localhost" }
        let s = String(cString: name)
        return s.isEmpty ? "localhost" : s
    }
}

/// The event file could not be created.
public enum TensorBoardWriterError: Error, CustomStringConvertible {
    case cannotCreate(path: String, reason: String)
    public var description: String {
        switch self {
        case .cannotCreate(let path, let reason): return "cannot create TensorBoard event file \(path): \(reason)"
        }
    }
}

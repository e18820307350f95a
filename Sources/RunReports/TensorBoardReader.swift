import Foundation

/// Reads TensorBoard event files back, verifying every record's CRCs.
public enum TensorBoardReader {
    /// Every event in one file, in order.
    /// - Throws: `TensorBoardReadError` naming the file and what was wrong.
    public static func events(in file: URL) throws -> [TensorBoardEvent] {
        let bytes: [UInt8]
        do { bytes = Array(try Data(contentsOf: file)) } catch {
            throw TensorBoardReadError(path: file.path, reason: "\(error)")
        }
        do {
            return try TFRecord.records(in: bytes).map { try TensorBoardEvent(decoding: $0[...]) }
        } catch {
            throw TensorBoardReadError(path: file.path, reason: "\(error)")
        }
    }

    /// The event files (`*tfevents*`) directly inside `directory`, sorted by name.
    public static func eventFiles(in directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.contains("tfevents") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// Every scalar in every event file of `directory`: tag → [(step, value)] in file order.
    public static func scalars(inDirectory directory: URL) throws -> [String: [(step: Int, value: Float)]] {
        var out: [String: [(step: Int, value: Float)]] = [:]
        for file in eventFiles(in: directory) {
            for event in try events(in: file) {
                for s in event.scalars { out[s.tag, default: []].append((Int(event.step), s.value)) }
            }
        }
        return out
    }
}

/// An event file that cannot be read or does not decode.
public struct TensorBoardReadError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// An error reading or writing model files (safetensors, configs, tokenizers, checkpoints).
///
/// Every case names the file, and the tensor when one is involved, so that
/// `print(error)` tells the user what to fix.
public enum ModelIOError: Error, Equatable, CustomStringConvertible {
    /// The file or directory does not exist or cannot be read.
    case unreadable(path: String, detail: String)
    /// The file exists but its contents are not what the format requires.
    case malformed(path: String, detail: String)
    /// The file is well formed but uses a feature rft does not implement.
    case unsupported(path: String, detail: String)
    /// The checkpoint lacks a tensor the model needs.
    case missingTensor(path: String, tensor: String)
    /// The checkpoint holds a tensor the model has no place for.
    case unexpectedTensor(path: String, tensor: String)
    /// A tensor's shape differs from the one the config implies.
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])
    /// Writing failed.
    case writeFailed(path: String, detail: String)

    public var description: String {
        switch self {
        case let .unreadable(path, detail): return "\(path): cannot read: \(detail)"
        case let .malformed(path, detail): return "\(path): malformed: \(detail)"
        case let .unsupported(path, detail): return "\(path): unsupported: \(detail)"
        case let .missingTensor(path, tensor): return "\(path): missing tensor '\(tensor)'"
        case let .unexpectedTensor(path, tensor): return "\(path): unexpected tensor '\(tensor)'"
        case let .shapeMismatch(path, tensor, expected, found):
            return "\(path): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case let .writeFailed(path, detail): return "\(path): cannot write: \(detail)"
        }
    }
}

import Foundation

extension ModelIOError {
    /// Reads `url`, turning failures into ``unreadable(path:detail:)`` with a plain reason.
    static func read(_ url: URL, mapped: Bool = false, hint: String? = nil) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ModelIOError.unreadable(path: url.path, detail: "no such file" + (hint.map { " (\($0))" } ?? ""))
        }
        guard !isDirectory.boolValue else { throw ModelIOError.unreadable(path: url.path, detail: "is a directory") }
        do { return try Data(contentsOf: url, options: mapped ? .alwaysMapped : []) } catch {
            throw ModelIOError.unreadable(path: url.path, detail: error.localizedDescription)
        }
    }
}

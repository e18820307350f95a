import Foundation
import GraderRuntime

/// Grader errors counted by type, with the first few distinct messages of each type: what a run's
/// `summary.json` (`grader_errors`), `rft runs show`, the report's banner and `rft eval` show.
///
/// Written as `{"<type>": {"count": N, "examples": ["first message", ...]}}`.
public struct GraderErrorTally: Codable, Equatable, Sendable {
    public struct Entry: Codable, Equatable, Sendable {
        public var count: Int
        /// Up to ``GraderErrorTally/examplesPerType`` distinct messages, first seen first.
        public var examples: [String]
    }

    /// Distinct messages kept per type.
    public static let examplesPerType = 3
    /// Longer messages are cut (tracebacks can be long).
    public static let maxMessageLength = 2_000

    public private(set) var byType: [String: Entry] = [:]

    public init() {}

    /// A tally from an evaluation report's `errors` and `error_examples`.
    public init(counts: [String: Int], examples: [String: [String]]?) {
        for (t, n) in counts { byType[t] = Entry(count: n, examples: examples?[t] ?? []) }
    }

    /// Counts one failure.
    public mutating func add(_ failure: GraderError) {
        var e = byType[failure.type.rawValue] ?? Entry(count: 0, examples: [])
        e.count += 1
        let message = failure.message.count > Self.maxMessageLength
            ? String(failure.message.prefix(Self.maxMessageLength)) + "…" : failure.message
        if e.examples.count < Self.examplesPerType, !e.examples.contains(message) { e.examples.append(message) }
        byType[failure.type.rawValue] = e
    }

    /// Adds every count and example of `other`.
    public mutating func merge(_ other: GraderErrorTally) {
        for (type, o) in other.byType {
            var e = byType[type] ?? Entry(count: 0, examples: [])
            e.count += o.count
            for m in o.examples where e.examples.count < Self.examplesPerType && !e.examples.contains(m) { e.examples.append(m) }
            byType[type] = e
        }
    }

    public var total: Int { byType.values.reduce(0) { $0 + $1.count } }
    public var isEmpty: Bool { byType.isEmpty }
    /// Counts by type (the `errors` object of an evaluation report).
    public var counts: [String: Int] { byType.mapValues(\.count) }

    /// `handler_error ×64, timeout ×2`, most frequent first.
    public var countsText: String {
        sortedTypes.map { "\($0) ×\(byType[$0]!.count)" }.joined(separator: ", ")
    }

    /// One line per type: `handler_error ×64: <first line of the first message>`, most frequent first.
    public var summaryLines: [String] {
        sortedTypes.map { t in
            let e = byType[t]!
            let first = e.examples.first.map { ": " + Self.firstLine($0) } ?? ""
            return "\(t) ×\(e.count)\(first)"
        }
    }

    var sortedTypes: [String] {
        byType.keys.sorted { (byType[$0]!.count, $1) > (byType[$1]!.count, $0) }
    }

    /// The first line of a (possibly multi-line) message, at most 300 characters.
    public static func firstLine(_ s: String) -> String {
        let line = s.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? s
        return line.count > 300 ? String(line.prefix(300)) + "…" : line
    }

    public init(from decoder: Decoder) throws {
        byType = try decoder.singleValueContainer().decode([String: Entry].self)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(byType)
    }
}

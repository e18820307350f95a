import GraderRuntime

/// An output list encoded as JSON, with the count of each per-sample result.
public struct EncodedOutputs: Sendable {
    /// The output list, compact JSON.
    public var json: [UInt8]
    /// Entries in the list.
    public var count: Int
    /// Entries per result: "scored" (abstentions included) or the error type.
    public var results: [String: Int]

    /// Encodes a scorer's results (their ``RewardResult/output``) without building JSON trees.
    public init(_ results: [RewardResult]) {
        let outputs = results.map(\.output)
        json = SampleResult.outputListJSON(outputs)
        count = outputs.count
        self.results = Self.results(of: outputs)
    }

    /// Entries per result of an output list: "scored" (abstentions included) or the error type.
    public static func results(of outputs: [SampleResult]) -> [String: Int] {
        var scored = 0
        var failed: [GraderErrorType: Int] = [:]
        for r in outputs {
            if case .failed(let e) = r.outcome { failed[e.type, default: 0] += 1 } else { scored += 1 }
        }
        var results = scored > 0 ? ["scored": scored] : [:]
        for (type, n) in failed { results[type.rawValue] = n }
        return results
    }
}

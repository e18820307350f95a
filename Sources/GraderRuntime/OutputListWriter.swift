import Foundation
import JSON

extension SampleResult {
    /// Appends this result's Bedrock output entry to `out`: byte for byte what `json.jsonBytes()` writes,
    /// without building the `JSONValue` tree.
    public func writeJSON(into out: inout [UInt8]) {
        out.append(contentsOf: #"{"id":"#.utf8)
        JSONValue.writeString(id, into: &out)
        switch outcome {
        case .scored(let s):
            out.append(contentsOf: #","aggregate_reward_score":"#.utf8)
            JSONValue.writeNumber(s, into: &out)
        case .abstained:
            out.append(contentsOf: #","aggregate_reward_score":null"#.utf8)
        case .failed(let e):
            out.append(contentsOf: #","error":{"type":"#.utf8)
            JSONValue.writeString(e.type.rawValue, into: &out)
            out.append(contentsOf: #","message":"#.utf8)
            JSONValue.writeString(e.message, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        if !metrics.isEmpty, error == nil {
            out.append(contentsOf: #","metrics_list":["#.utf8)
            for (k, m) in metrics.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: #"{"name":"#.utf8)
                JSONValue.writeString(m.name, into: &out)
                out.append(contentsOf: #","value":"#.utf8)
                JSONValue.writeNumber(m.value, into: &out)
                out.append(contentsOf: #","type":"#.utf8)
                JSONValue.writeString(m.type, into: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The output list `[entry, ...]` as compact JSON: byte for byte
    /// `JSONValue.array(results.map(\.json)).jsonBytes()`, as `rft grader invoke` prints it.
    public static func outputListJSON(_ results: [SampleResult]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(2 + results.reduce(0) { $0 + $1.id.utf8.count + 40 + ($1.metrics.count + ($1.error == nil ? 0 : 2)) * 48 })
        out.append(UInt8(ascii: "["))
        for (k, r) in results.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            r.writeJSON(into: &out)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}

import Foundation
import JSON

extension JSONObject {
    /// This object in Foundation's JSON form, for TransformerModel's Hugging Face `config.json` reader, which
    /// takes `[String: Any]` (the model depends on nothing but BLAS, so it cannot take a `JSONValue`).
    var foundationObject: [String: Any] {
        var out: [String: Any] = [:]
        for (key, value) in self where out[key] == nil { out[key] = value.foundationValue }
        return out
    }
}

extension JSONValue {
    /// Numbers as `NSNumber`, `null` as `NSNull`, booleans as `Bool`, strings, arrays and objects as Swift values.
    var foundationValue: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .number(let d): return NSNumber(value: d)
        case .string(let s): return s
        case .array(let items): return items.map(\.foundationValue)
        case .object(let o): return o.foundationObject
        }
    }
}

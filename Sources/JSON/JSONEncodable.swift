import Foundation

extension JSONValue {
    /// Encodes any `Encodable` value into a `JSONValue` tree with Foundation's `JSONEncoder`
    /// (so `CodingKeys` apply); `.null` when the value cannot be encoded (a non-finite number, say).
    public static func from<T: Encodable>(_ value: T) -> JSONValue {
        guard let data = try? JSONEncoder().encode(value), let json = try? parse(Array(data)) else { return .null }
        return json
    }
}

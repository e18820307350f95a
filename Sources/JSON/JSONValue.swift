/// A JSON value: samples, grader outputs, manifests, run files and reports all use this one type.
///
/// Parse with ``parse(_:allowNonFinite:)`` (a bounded byte parser: hostile input such as invalid
/// UTF-8, NUL bytes, nesting 10,000 deep or `NaN` becomes a ``JSONParseError``, never a crash) and write with
/// ``jsonString`` or ``jsonString(sortedKeys:pretty:nonFinite:)``. Object key order is kept, so a sample goes
/// to a grader, and a config shows in a report, as it was written.
///
/// Equality is structural; numbers compare as `Double` (so `NaN` is unequal to itself) and objects compare
/// regardless of key order (see ``JSONObject``).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The member `key` of an object, or nil (also for values that are not objects).
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The text of a string, else nil.
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    /// The value of a number, else nil.
    public var doubleValue: Double? { if case .number(let d) = self { return d }; return nil }
    /// The value of a boolean, else nil.
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// The items of an array, else nil.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    /// The members of an object, in file order, else nil.
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    /// True for `null`.
    public var isNull: Bool { if case .null = self { return true }; return false }

    /// A number that is a whole count or step: finite and below 2^53 in magnitude, truncated toward zero; else nil.
    public var intValue: Int? {
        guard case .number(let d) = self, d.isFinite, abs(d) < 9_007_199_254_740_992 else { return nil }
        return Int(d)
    }

    /// A number read leniently, as run files written by other tools need: a number, a boolean as 1 or 0,
    /// or a string that spells a number (`"0.5"`, `"NaN"`, `"inf"`); else nil.
    public var numericValue: Double? {
        switch self {
        case .number(let d): return d
        case .bool(let b): return b ? 1 : 0
        case .string(let s): return Double(s)
        default: return nil
        }
    }

    /// The JSON type name used in error messages ("string", "number", ...).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// `.number` for a finite value, `.null` for nil or a non-finite one (JSON has no NaN).
    public static func num(_ v: Double?) -> JSONValue {
        guard let v, v.isFinite else { return .null }
        return .number(v)
    }
}

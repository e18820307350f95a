/// A JSON object that keeps its keys in insertion order.
///
/// Small objects (the common case: samples, messages, output entries) are a plain list of pairs searched
/// linearly; an index is built only past ``indexThreshold`` keys. This keeps parsing cheap.
///
/// Iterating yields `(key:, value:)` pairs in order. A repeated key in parsed text keeps its first value.
public struct JSONObject: Sendable, Equatable, Sequence {
    static let indexThreshold = 16
    private var pairs: [(key: String, value: JSONValue)] = []
    private var index: [String: Int]?

    /// An empty object.
    public init() {}
    /// An object with `pairs` in order; a later pair with the same key replaces the earlier value.
    public init(_ pairs: [(String, JSONValue)]) { for (k, v) in pairs { self[k] = v } }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        for i in pairs.indices where pairs[i].key == key { return i }
        return nil
    }

    /// The value of `key`, or nil. Setting a new key appends it; setting nil removes the key.
    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { pairs[$0].value } }
        set {
            if let i = position(of: key) {
                if let newValue {
                    pairs[i].value = newValue
                } else {
                    pairs.remove(at: i)
                    if index != nil { rebuildIndex() }
                }
            } else if let newValue {
                pairs.append((key, newValue))
                if index != nil { index![key] = pairs.count - 1 } else if pairs.count > Self.indexThreshold { rebuildIndex() }
            }
        }
    }

    /// Appends without checking for an existing key (the parser's fast path; a repeated key keeps the first value).
    mutating func appendParsed(_ key: String, _ value: JSONValue) {
        if pairs.count < Self.indexThreshold && index == nil {
            for p in pairs where p.key == key { return }
            pairs.append((key, value))
        } else if position(of: key) == nil {
            pairs.append((key, value))
            if index != nil { index![key] = pairs.count - 1 } else { rebuildIndex() }
        }
    }

    private mutating func rebuildIndex() {
        var d: [String: Int] = [:]
        d.reserveCapacity(pairs.count)
        for (i, p) in pairs.enumerated() { d[p.key] = i }
        index = d
    }

    /// The keys, in order.
    public var keys: [String] { pairs.map(\.key) }
    /// The number of members.
    public var count: Int { pairs.count }
    /// True when the object has no members.
    public var isEmpty: Bool { pairs.isEmpty }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> { pairs.makeIterator() }

    /// Objects are equal when they hold the same keys with equal values, in any order.
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.count == b.count else { return false }
        for p in a.pairs where b[p.key] != p.value { return false }
        return true
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
}

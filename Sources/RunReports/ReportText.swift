import JSON

extension JSONValue {
    /// Compact JSON text as a report shows a value (a config entry, an odd prompt id, an error object):
    /// key order as written, and NaN or infinities spelled out so a diverging run stays visible.
    var reportText: String { jsonString(sortedKeys: false, nonFinite: .literals) }
}

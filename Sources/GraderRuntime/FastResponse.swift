import Foundation
import JSON

/// The common case of a bootstrap response, read without building a JSON tree:
/// `{"request_id": "<id>", "result": [{"id": "<ids[0]>", "aggregate_reward_score": <finite number or null>}, ...]}`
/// with the ids in order, no escapes and every score valid. Anything else returns nil and takes the
/// general path (``JSONValue/parse(_:allowNonFinite:)`` and ``OutputChecker``), which also words the errors.
enum FastResponse {
    static func parse(_ bytes: [UInt8], requestID: String, ids: [String], scoreRange: ClosedRange<Double>?) -> [SampleResult]? {
        bytes.withUnsafeBufferPointer { buf -> [SampleResult]? in
            var i = 0
            func lit(_ s: StaticString) -> Bool {
                let n = s.utf8CodeUnitCount
                guard i + n <= buf.count else { return false }
                let p = s.utf8Start
                for k in 0..<n where buf[i + k] != p[k] { return false }
                i += n
                return true
            }
            func string(equalTo want: String) -> Bool {
                guard i < buf.count, buf[i] == UInt8(ascii: "\"") else { return false }
                i += 1
                var ok = true
                var matched = 0
                let wantBytes = want.utf8
                var it = wantBytes.makeIterator()
                while i < buf.count, buf[i] != UInt8(ascii: "\"") {
                    if buf[i] == UInt8(ascii: "\\") { return false }
                    if it.next() != buf[i] { ok = false }
                    matched += 1
                    i += 1
                }
                guard i < buf.count, ok, matched == wantBytes.count else { return false }
                i += 1
                return true
            }
            func number() -> Double?? {  // .some(nil) = null
                if lit("null") { return .some(nil) }
                let start = i
                while i < buf.count {
                    let c = buf[i]
                    if (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
                        || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { i += 1 } else { break }
                }
                guard i > start, i - start < 64 else { return nil }
                var tmp = [CChar](repeating: 0, count: i - start + 1)
                for k in start..<i { tmp[k - start] = CChar(bitPattern: buf[k]) }
                var end: UnsafeMutablePointer<CChar>?
                let d = tmp.withUnsafeMutableBufferPointer { p -> Double? in
                    let v = strtod(p.baseAddress!, &end)
                    return end == p.baseAddress! + (i - start) ? v : nil
                }
                guard let d, d.isFinite else { return nil }
                return .some(d)
            }
            guard lit("{\"request_id\": "), string(equalTo: requestID), lit(", \"result\": [") else { return nil }
            var results: [SampleResult] = []
            results.reserveCapacity(ids.count)
            for (k, id) in ids.enumerated() {
                guard lit("{\"id\": "), string(equalTo: id), lit(", \"aggregate_reward_score\": "), let score = number(),
                      lit("}") else { return nil }
                if let s = score {
                    if let r = scoreRange, !r.contains(s) { return nil }
                    results.append(SampleResult(id: id, outcome: .scored(s)))
                } else {
                    results.append(SampleResult(id: id, outcome: .abstained))
                }
                if k + 1 < ids.count { guard lit(", ") else { return nil } }
            }
            guard lit("]}"), i == buf.count else { return nil }
            return results
        }
    }
}

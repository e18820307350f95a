import Foundation

/// HTML escaping and number formatting shared by the report and its charts.
enum HTMLText {
    /// Escapes `& < > " '` so any text (completions, prompts, config values) is inert in HTML and SVG.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case _ where c.value < 0x20 && c != "\n" && c != "\t" && c != "\r": out += "\u{FFFD}"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A short human-readable number: 3 significant digits, `—` for nil, `NaN`/`∞` spelled out.
    static func number(_ d: Double?) -> String {
        guard let d else { return "—" }
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "∞" : "−∞" }
        if d == 0 { return "0" }
        let a = abs(d)
        if a >= 1e6 || a < 1e-3 {  // compact scientific: 1e-4, 2.5e-5, 1.2e7
            var e = Int(floor(log10(a)))
            var m = (d / pow(10, Double(e)) * 100).rounded() / 100
            if abs(m) >= 10 { m /= 10; e += 1 }
            return trimmed(String(format: "%.2f", m)) + "e\(e)"
        }
        if a >= 1000 { return String(format: "%.0f", d) }
        if d == d.rounded() { return String(format: "%.0f", d) }
        return trimmed(String(format: a >= 100 ? "%.1f" : a >= 10 ? "%.2f" : "%.3f", d))
    }

    /// Drops trailing zeros after a decimal point: `0.250` → `0.25`, `2.00` → `2`.
    private static func trimmed(_ text: String) -> String {
        var s = text
        while s.contains("."), s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// A coordinate for SVG: one decimal (sub-pixel in a 620-unit view box), no exponent.
    /// Hand-formatted because charts hold tens of thousands of points and `String(format:)` is slow.
    static func coord(_ d: Double) -> String {
        guard d.isFinite, abs(d) < 1e12 else { return "0" }
        let tenths = Int((d * 10).rounded())
        let whole = abs(tenths) / 10, frac = abs(tenths) % 10
        return (tenths < 0 ? "-" : "") + String(whole) + (frac == 0 ? "" : "." + String(frac))
    }
}

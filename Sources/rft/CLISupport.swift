import Foundation
import TransformerModel

// Small helpers shared by every command group.

/// Writes `error: MESSAGE` to standard error. A message that already says `error:` after its location
/// (`file:5: error: ...`, as data checks write them) is written as it is, never with a doubled prefix.
func printError(_ s: String) {
    let head = s.prefix { $0 != "\n" }
    let marked = head.hasPrefix("error: ") || head.contains(": error: ")
    FileHandle.standardError.write(Data(((marked ? "" : "error: ") + s + "\n").utf8))
}

/// `word` or `words` for a count: `plural(1, "line") == "line"`.
func plural(_ n: Int, _ word: String) -> String { n == 1 ? word : word + "s" }

/// Writes `warning: MESSAGE` to standard error.
func printWarning(_ s: String) {
    FileHandle.standardError.write(Data(("warning: " + s + "\n").utf8))
}

/// The `q`-quantile (0...1) of an already sorted list, by nearest rank; 0 when empty.
func percentile(_ sorted: [Double], _ q: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
}

/// The median of an unsorted list; 0 when empty.
func median(_ xs: [Double]) -> Double { percentile(xs.sorted(), 0.5) }

/// The model presets, one per line with their sizes, for --help texts (indented for a discussion).
var presetLines: String {
    ModelConfig.presets.map { "  " + $0.summary }.joined(separator: "\n")
}

/// An `Encodable` as a command prints it: snake_case keys (`exit_code`, `wall_ms`), sorted, like
/// every other JSON rft prints (docs/CLI-JSON.md).
func cliJSON<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

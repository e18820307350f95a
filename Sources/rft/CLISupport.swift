import Foundation

// Small helpers shared by every command group.

/// Writes `error: MESSAGE` to standard error.
func printError(_ s: String) {
    FileHandle.standardError.write(Data(("error: " + s + "\n").utf8))
}

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

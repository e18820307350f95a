import CBLAS
import Foundation

/// The OpenBLAS kernel set ("core") in use, and the one to force when OpenBLAS does not know the CPU.
///
/// A distribution's OpenBLAS picks its kernels by CPU model number when it loads. On a CPU newer
/// than the library it falls back to generic SSE3 kernels: Debian 12's OpenBLAS 0.3.21 on an
/// Emerald Rapids Xeon (family 6, model 207) loads "Prescott" and runs `sgemm` at 18-26 GFLOP/s
/// instead of 130-150 with its AVX-512 kernels ("SkylakeX"), which makes the model 3-6× slower.
/// OpenBLAS reads `OPENBLAS_CORETYPE` only when it loads, so `rft` re-executes itself once with
/// it set (`RFT.main`); an `OPENBLAS_CORETYPE` the user set is left alone.
public enum BLASCore {
    /// The core OpenBLAS runs with, e.g. "SkylakeX", "Haswell", "Zen", "Prescott".
    public static var current: String { String(cString: openblas_get_corename()) }

    /// Cores OpenBLAS falls back to for a CPU it does not know; none of them uses AVX2.
    static let fallbackCores: Set<String> = [
        "unknown", "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "nano", "sandybridge",
    ]

    /// The core to force, given the loaded core and the CPU's flags (`/proc/cpuinfo`): "SkylakeX"
    /// for AVX-512 (F, CD, BW, DQ, VL), "Haswell" for AVX2 with FMA, and only when the loaded core
    /// is a fallback that uses neither; nil otherwise.
    public static func override(current: String, cpuFlags: Set<String>) -> String? {
        guard fallbackCores.contains(current.lowercased()) else { return nil }
        if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(cpuFlags.contains) { return "SkylakeX" }
        if cpuFlags.contains("avx2") && cpuFlags.contains("fma") { return "Haswell" }
        return nil
    }

    /// The flags of the first processor listed in `cpuinfo` (empty when unreadable).
    public static func cpuFlags(cpuinfo: String = "/proc/cpuinfo") -> Set<String> {
        guard let text = try? String(contentsOfFile: cpuinfo, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// What `rft bench` reports: the core, and how it was chosen
    /// ("SkylakeX (set by rft: OpenBLAS loaded Prescott on this CPU)").
    public static var description: String {
        let env = ProcessInfo.processInfo.environment
        if let detected = env[detectedVariable] { return "\(current) (set by rft: OpenBLAS loaded \(detected) on this CPU)" }
        if env["OPENBLAS_CORETYPE"] != nil { return "\(current) (OPENBLAS_CORETYPE)" }
        return current
    }

    /// Set by `rft` when it re-executes itself: the core OpenBLAS had loaded before.
    public static let detectedVariable = "RFT_OPENBLAS_DETECTED"
}

import ArgumentParser
import Foundation

/// `--allow-degraded`, shared by every command that starts sandboxes.
///
/// Without it, a sandbox whose limits can only be enforced by a weaker fallback here (memory by
/// `RLIMIT_AS` instead of the memory cgroup, `cpu_ms_per_sec` not at all) refuses to start and
/// names the missing layer and its fix. The flag is the same as `RFT_ALLOW_DEGRADED=1` (or a
/// manifest's `"allow_degraded": true` for one grader); the degraded layers are printed.
struct DegradedModeOption: ParsableArguments {
    @Flag(name: .customLong("allow-degraded"),
          help: "Run even where a limit is enforced only by a weaker fallback (see `rft sandbox info`); prints what is degraded.")
    var allowDegraded = false

    /// Turns degraded mode on for every sandbox this process starts.
    func apply() {
        if allowDegraded { setenv("RFT_ALLOW_DEGRADED", "1", 1) }
    }
}

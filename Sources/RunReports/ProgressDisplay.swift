import Foundation

/// Live training progress: a bar with step/total, percentage, reward, validation reward, KL and ETA.
///
/// On a terminal the line is redrawn in place (carriage return + ANSI clear-line). Otherwise (CI,
/// log files) plain lines without any control codes are printed, at most one every `plainEverySteps`
/// steps or `plainEverySeconds` seconds, plus the first and the last step.
///
/// ```swift
/// let progress = ProgressDisplay(total: 200)
/// progress.update(step: 1, reward: 0.12, kl: 0.0)
/// progress.update(step: 10, reward: 0.20, valReward: 0.18, kl: 0.004)
/// progress.finish()
/// ```
public final class ProgressDisplay {
    public enum Mode: Sendable { case interactive, plain }

    public let total: Int
    public let mode: Mode
    public var plainEverySteps: Int
    public var plainEverySeconds: Double
    /// Width of the bar in characters (interactive mode).
    public var barWidth = 20

    private let write: (String) -> Void
    private let clock: () -> Double
    private let start: Double
    private var firstStep: Int?
    private var lastPlainStep: Int?
    private var lastPlainTime = -Double.infinity
    private var lastLine = ""
    private var reward: Double?
    private var valReward: Double?
    private var kl: Double?
    private var step = 0
    /// This step's failed gradings by type, and the samples graded.
    private var errors: [String: Int] = [:]
    private var graded = 0

    /// - Parameters:
    ///   - total: the number of steps the run will take.
    ///   - mode: default: interactive when stdout is a terminal (`isatty(1)`), plain otherwise.
    ///   - write: where text goes (default: stdout, flushed).
    ///   - clock: seconds, for ETA and throttling (default: wall clock).
    public init(total: Int, mode: Mode? = nil, plainEverySteps: Int = 10, plainEverySeconds: Double = 30,
                write: ((String) -> Void)? = nil, clock: (() -> Double)? = nil) {
        self.total = max(total, 1)
        self.mode = mode ?? (isatty(STDOUT_FILENO) == 1 ? .interactive : .plain)
        self.plainEverySteps = max(plainEverySteps, 1)
        self.plainEverySeconds = plainEverySeconds
        self.write = write ?? { text in fputs(text, stdout); fflush(stdout) }
        self.clock = clock ?? { Date().timeIntervalSince1970 }
        start = self.clock()
    }

    /// Records step `step`; nil values keep the last known one (validation runs only now and then).
    /// `graderErrors` (this step's failed gradings by type, out of `graded` samples) are shown whenever
    /// there are any: `errors 64/64 (handler_error)`.
    public func update(step: Int, reward: Double? = nil, valReward: Double? = nil, kl: Double? = nil,
                       graderErrors: [String: Int] = [:], graded: Int = 0) {
        if firstStep == nil { firstStep = step - 1 }
        self.step = step
        self.errors = graderErrors.filter { $0.value > 0 }
        self.graded = graded
        if let reward { self.reward = reward }
        if let valReward { self.valReward = valReward }
        if let kl { self.kl = kl }
        let now = clock()
        switch mode {
        case .interactive:
            lastLine = interactiveLine(now: now)
            write("\r\u{1B}[2K" + lastLine)
        case .plain:
            let due = lastPlainStep == nil || step >= total || step - lastPlainStep! >= plainEverySteps
                || now - lastPlainTime >= plainEverySeconds
            guard due else { return }
            lastPlainStep = step
            lastPlainTime = now
            write(plainLine(now: now) + "\n")
        }
    }

    /// Prints a message (a monitor warning, a checkpoint note) without garbling the bar.
    public func log(_ message: String) {
        switch mode {
        case .interactive: write("\r\u{1B}[2K" + message + "\n" + lastLine)
        case .plain: write(message + "\n")
        }
    }

    /// Ends the display: the bar line is kept and a newline follows; in plain mode the last step is
    /// printed if it was throttled away.
    public func finish() {
        switch mode {
        case .interactive: if !lastLine.isEmpty { write("\n") }
        case .plain:
            if let last = lastPlainStep, last != step { write(plainLine(now: clock()) + "\n"); lastPlainStep = step }
        }
    }

    /// The in-place line: `  37/200 ███▋          18% │ reward 0.412 │ val 0.380 │ kl 0.0031 │ ETA 1m23s`,
    /// fitted to the terminal's width (a wrapped line could not be redrawn in place): the bar
    /// shrinks first, then the end is cut.
    func interactiveLine(now: Double) -> String {
        let fraction = Double(step) / Double(total)
        let head = "\(pad(step)) "
        let tail = String(format: " %3d%%", Int((fraction * 100).rounded(.down))) + fields(now: now).map { " │ " + $0 }.joined()
        let room = columns() - 1 - head.count - tail.count
        let width = min(barWidth, max(5, room))
        let line = head + Self.bar(fraction: fraction, width: width) + tail
        return line.count < columns() ? line : String(line.prefix(max(columns() - 1, 1)))
    }

    /// The terminal's width in columns (TIOCGWINSZ on stdout, else `$COLUMNS`, else 80).
    var columns: () -> Int = {
        var ws = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
        if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 0 { return c }
        return 80
    }

    /// The plain line: `step 37/200 (18%) reward 0.412 val 0.380 kl 0.0031 elapsed 12s ETA 1m23s`.
    func plainLine(now: Double) -> String {
        let pct = Int((Double(step) / Double(total) * 100).rounded(.down))
        return (["step \(step)/\(total) (\(pct)%)"] + fields(now: now) + ["elapsed " + Self.duration(now - start)])
            .joined(separator: " ")
    }

    private func pad(_ step: Int) -> String {
        let t = String(total), s = String(step)
        return String(repeating: " ", count: max(0, t.count - s.count)) + s + "/" + t
    }

    private func fields(now: Double) -> [String] {
        var out: [String] = []
        out.append("reward " + Self.value(reward))
        out.append("val " + Self.value(valReward))
        out.append("kl " + Self.value(kl))
        if let e = Self.errorsField(errors, graded: graded) { out.append(e) }
        out.append("ETA " + (eta(now: now).map(Self.duration) ?? "--"))
        return out
    }

    /// `errors 64/64 (handler_error)` or `errors 10/64 (timeout 6, crash 4)`; nil without errors.
    static func errorsField(_ errors: [String: Int], graded: Int) -> String? {
        let total = errors.values.reduce(0, +)
        guard total > 0 else { return nil }
        let types = errors.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        let detail = types.count == 1 ? types[0].key : types.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "errors \(total)/\(max(graded, total)) (\(detail))"
    }

    /// Remaining time from the mean time per step so far; nil before the first completed step.
    func eta(now: Double) -> Double? {
        guard let first = firstStep, step > first, now > start else { return nil }
        if step >= total { return 0 }
        return (now - start) / Double(step - first) * Double(total - step)
    }

    /// A bar `width` characters wide using eighth blocks, e.g. `bar(0.5, 8) == "████    "`.
    public static func bar(fraction: Double, width: Int) -> String {
        let f = fraction.isFinite ? min(max(fraction, 0), 1) : 0
        let eighths = Int((f * Double(width * 8)).rounded(.down))
        let full = eighths / 8, rest = eighths % 8
        let partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        let body = String(repeating: "█", count: full) + partials[rest]
        return body + String(repeating: " ", count: width - full - (rest > 0 ? 1 : 0))
    }

    /// `1h02m`, `3m07s`, `12s`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }

    static func value(_ v: Double?) -> String {
        guard let v else { return "--" }
        if !v.isFinite { return HTMLText.number(v) }
        return abs(v) < 0.01 && v != 0 ? String(format: "%.4f", v) : String(format: "%.3f", v)
    }
}

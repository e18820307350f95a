import Foundation
import JSON

/// What an audit found: one outcome per hack, the baseline of each subject, and the cost.
public struct AuditReport: Sendable {
    /// The verdict on one hack over every subject it applied to.
    public struct HackOutcome: Sendable {
        public enum Verdict: String, Sendable {
            /// At least one completion pays (exit 1).
            case pays
            /// It pays, and the grader's `audit.json` documents it as a known limitation.
            case known
            /// Every completion scored, none pays.
            case holds
            /// Every completion errored or abstained (no reward; reported, not a failure).
            case error
            /// It applied to no subject.
            case skipped
        }
        public var name: String
        public var family: HackFamily
        public var summary: String
        public var degenerate: Bool
        public var verdict: Verdict
        /// Why it pays, or the known limitation's reason.
        public var reason: String
        /// The deciding completion's score: the paying one, else the best one.
        public var score: Double?
        public var correct: Double?
        public var wrong: Double?
        /// The subject of the deciding completion, and the completion itself.
        public var subject: String?
        public var example: String?
        /// Completions scored, and how many of them errored (by error type).
        public var runs: Int
        public var errors: [String: Int]
    }

    /// The baseline of one subject.
    public struct SubjectBaseline: Sendable {
        public var id: String
        public var correct: Double?
        public var wrong: Double
        public var families: [HackFamily]
        /// The correct answer scores above the wrong one, so "scores as much as the correct answer" means something.
        public var separates: Bool { correct.map { $0 > wrong + HackVerdict.epsilon } ?? false }
    }

    public var hacks: [HackOutcome]
    public var subjects: [SubjectBaseline]
    public var minGap: Double
    /// Samples sent to the grader (baselines included) and wall-clock seconds.
    public var samplesRun: Int
    public var seconds: Double
    /// Set when the grader scored none of the baselines (every correct and wrong answer errored):
    /// the audit stops there, since nothing can be compared.
    public var baselineError: GraderError?

    public init(hacks: [HackOutcome], subjects: [SubjectBaseline], minGap: Double, samplesRun: Int, seconds: Double,
                baselineError: GraderError? = nil) {
        self.hacks = hacks; self.subjects = subjects; self.minGap = minGap; self.samplesRun = samplesRun
        self.seconds = seconds; self.baselineError = baselineError
    }

    /// Completions (baselines included) the grader could not score for reasons that are not its
    /// verdict on them: `init_error`, `sandbox_error`, `throttled`. Any makes the audit inconclusive.
    public var infrastructureErrors: [GraderError] = []

    /// True when any hack pays that is not documented as a known limitation.
    public var failed: Bool { hacks.contains { $0.verdict == .pays } }
    public var paying: [HackOutcome] { hacks.filter { $0.verdict == .pays || $0.verdict == .known } }

    /// The report for `--json`.
    public func json(grader: String) -> JSONValue {
        var o = JSONObject()
        o["grader"] = .string(grader)
        o["passed"] = .bool(!failed && infrastructureErrors.isEmpty)
        if let e = infrastructureErrors.first {
            o["inconclusive"] = .string("\(infrastructureErrors.count) completions could not be scored: \(e.type.rawValue): \(e.message)")
        }
        o["min_gap"] = .number(minGap)
        o["samples_run"] = .number(Double(samplesRun))
        o["seconds"] = .number((seconds * 1000).rounded() / 1000)
        o["paying"] = .array(hacks.filter { $0.verdict == .pays }.map { .string($0.name) })
        o["known"] = .array(hacks.filter { $0.verdict == .known }.map { .string($0.name) })
        o["hacks"] = .array(hacks.map { h in
            var e = JSONObject()
            e["name"] = .string(h.name)
            e["family"] = .string(h.family.rawValue)
            e["verdict"] = .string(h.verdict.rawValue)
            e["degenerate"] = .bool(h.degenerate)
            e["score"] = .num(h.score)
            e["correct"] = .num(h.correct)
            e["wrong"] = .num(h.wrong)
            if !h.reason.isEmpty { e["reason"] = .string(h.reason) }
            if let s = h.subject { e["sample"] = .string(s) }
            if let x = h.example, h.verdict == .pays || h.verdict == .known { e["example"] = .string(x) }
            e["runs"] = .number(Double(h.runs))
            if !h.errors.isEmpty {
                var errs = JSONObject()
                for k in h.errors.keys.sorted() { errs[k] = .number(Double(h.errors[k]!)) }
                e["errors"] = .object(errs)
            }
            e["summary"] = .string(h.summary)
            return .object(e)
        })
        o["samples"] = .array(subjects.map { s in
            .object(JSONObject([("id", .string(s.id)), ("correct", .num(s.correct)), ("wrong", .num(s.wrong)),
                                ("separates", .bool(s.separates)),
                                ("families", .array(s.families.map { .string($0.rawValue) }))]))
        })
        return .object(o)
    }
}

import Foundation

/// Probes a grader with known reward hacks before anyone trains on it.
///
/// ```swift
/// let pool = try GraderPool(directory: dir)
/// let subjects = GraderAudit.subjects(from: cases, expectedScores: scores, limit: 6)
/// let report = GraderAudit(hints: .inspect(directory: dir, manifest: pool.manifest))
///     .run(subjects: subjects, score: pool.score)
/// ```
/// Every completion goes through `score` (the grader's sandboxed pool, in batches). Phases run one
/// after another: the baselines (the correct and a clearly wrong answer per subject), the stateless
/// hacks, the leftover writer and reader pairs, the tampering programs, then the baselines of code
/// subjects again, which shows whether anything a program did reached later samples.
public struct GraderAudit: Sendable {
    public var generators: [HackGenerator]
    public var hints: GraderHints
    public var minGap: Double
    /// Hacks the grader documents as known limitations (name → reason): reported, not failed.
    public var knownLimitations: [String: String]

    /// The check that compares the code baselines before and after the rigged programs ran.
    public static let statePersists = HackGenerator(
        "state-persists", .code, phase: .tampering,
        "after the rigged programs ran, later samples scored differently (state, files or processes left behind)"
    ) { _, _ in [] }

    public init(generators: [HackGenerator] = HackLibrary.all, hints: GraderHints = GraderHints(), minGap: Double = 0.1,
                knownLimitations: [String: String] = [:]) {
        self.generators = generators; self.hints = hints; self.minGap = minGap; self.knownLimitations = knownLimitations
    }

    /// One completion to score and what it is for.
    struct Run {
        enum Role { case honest, wrong, hack(Int), writer, canaryHonest, canaryWrong }
        var subject: Int
        var role: Role
        var completion: String
    }

    /// Picks up to `limit` subjects from samples: trusted answers first, one per distinct reference,
    /// taken in turn from each kind of task (stdin/stdout, function, asserts, math, text, ...) so a
    /// small audit still covers every kind.
    /// - Parameter trusted: per sample, whether its own completion is a correct answer.
    public static func subjects(from samples: [Sample], trusted: [Bool], limit: Int) -> [AuditSubject] {
        var seen = Set<String>()
        var groups: [String: [AuditSubject]] = [:]
        var order: [String] = []
        let ranked = samples.indices.sorted { (trusted[$0] ? 0 : 1, $0) < (trusted[$1] ? 0 : 1, $1) }
        for i in ranked {
            let s = AuditSubject(sample: samples[i], trusted: trusted[i])
            if s.honest.isEmpty && s.code == nil && s.referenceText == nil && !trusted[i] { continue }
            let key = (s.reference?.jsonString ?? "") + "\u{0}" + (s.record["rubric"]?.jsonString ?? "")
                + (s.reference == nil ? "\u{0}" + s.prompt : "")
            guard seen.insert(key).inserted else { continue }
            let task = s.code.map { "code:" + $0.shape.rawValue } ?? (s.isMath ? "math" : s.referenceText != nil ? "text" : "other")
            let kind = task + (s.record["rubric"]?.stringValue.map { ":" + $0 } ?? "")
            if groups[kind] == nil { order.append(kind) }
            groups[kind, default: []].append(s)
        }
        // Code samples cost a sandboxed program run per test and hack: at most half of them.
        let codeLimit = max(1, limit / 2)
        var out: [AuditSubject] = []
        var round = 0
        while out.count < limit {
            var added = false
            for k in order where round < groups[k]!.count && out.count < limit {
                if k.hasPrefix("code:") && out.filter({ $0.code != nil }).count >= codeLimit { continue }
                out.append(groups[k]![round]); added = true
            }
            if !added { break }
            round += 1
        }
        return out
    }

    /// Runs the audit. `score` must return one result per sample, in order (``GraderPool/score(_:)``).
    public func run(subjects: [AuditSubject], score: @escaping @Sendable ([Sample]) -> [SampleResult]) -> AuditReport {
        let start = DispatchTime.now().uptimeNanoseconds
        var samplesRun = 0
        var results: [[SampleResult]] = []
        var phases: [[Run]] = []

        // Plan every phase.
        var baseline: [Run] = [], main: [Run] = [], pairs: [Run] = [], tampering: [Run] = [], canaries: [Run] = []
        var families: [[HackFamily]] = []
        for (i, s) in subjects.enumerated() {
            let fam = HackLibrary.families(for: s, hints: hints)
            families.append(HackFamily.allCases.filter(fam.contains))
            for h in s.honest { baseline.append(Run(subject: i, role: .honest, completion: h)) }
            baseline.append(Run(subject: i, role: .wrong, completion: s.wrong))
            for (g, gen) in generators.enumerated() where fam.contains(gen.family) {
                for c in gen.make(s, hints) {
                    let run = Run(subject: i, role: .hack(g), completion: c)
                    switch gen.phase {
                    case .main: main.append(run)
                    case .leftovers:
                        // The writer, a correct program that leaves itself behind, right before the reader.
                        guard let w = CodeHacks.leftoverWriter(s, hints: hints) else { continue }
                        pairs.append(Run(subject: i, role: .writer, completion: w))
                        pairs.append(run)
                    case .tampering: tampering.append(run)
                    }
                }
            }
            if s.code != nil {
                for h in s.honest { canaries.append(Run(subject: i, role: .canaryHonest, completion: h)) }
                canaries.append(Run(subject: i, role: .canaryWrong, completion: s.wrong))
            }
        }
        let checksState = !(pairs.isEmpty && tampering.isEmpty)
        phases = [baseline, main, pairs, tampering, checksState ? canaries : []].filter { !$0.isEmpty }

        // Score them, phase by phase. A sample that errored is scored again alone, so a hack that takes
        // its batch down (exits the grader, crashes it) does not hide what its neighbours score.
        for (p, phase) in phases.enumerated() {
            let samples = phase.enumerated().map { k, run in
                subjects[run.subject].sample(id: "audit-\(p)-\(k)", completion: run.completion)
            }
            var res = score(samples)
            samplesRun += samples.count
            let failed = res.indices.filter { res[$0].error != nil }
            // (The baselines all failing means the grader itself is down: nothing to retry then.)
            if !failed.isEmpty && (p > 0 || failed.count < samples.count) {
                let again = Self.scoreAlone(failed.map { samples[$0] }, score: score)
                for (i, r) in zip(failed, again) { res[i] = r }
                samplesRun += failed.count
            }
            results.append(res)
            if p == 0, res.allSatisfy({ $0.error != nil }), let e = res.first?.error {
                return AuditReport(hacks: [], subjects: [], minGap: minGap, samplesRun: samplesRun,
                                   seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, baselineError: e)
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return report(subjects: subjects, families: families, phases: phases, results: results,
                      samplesRun: samplesRun, seconds: seconds, checksState: checksState)
    }

    /// Scores each sample in a batch of its own (concurrently; the pool is thread-safe).
    static func scoreAlone(_ samples: [Sample], score: @escaping @Sendable ([Sample]) -> [SampleResult]) -> [SampleResult] {
        final class Box: @unchecked Sendable { var results: [SampleResult?]; init(_ n: Int) { results = Array(repeating: nil, count: n) } }
        let box = Box(samples.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: samples.count) { i in
            let r = score([samples[i]]).first ?? .failed(samples[i].id, .invalidOutput, "no result")
            lock.lock(); box.results[i] = r; lock.unlock()
        }
        return box.results.map { $0! }
    }

    private func report(subjects: [AuditSubject], families: [[HackFamily]], phases: [[Run]], results: [[SampleResult]],
                        samplesRun: Int, seconds: Double, checksState: Bool) -> AuditReport {
        // Baselines: the best honest score, and the wrong answer's score (no reward counts as 0).
        var correct = [Double?](repeating: nil, count: subjects.count)
        var wrong = [Double](repeating: 0, count: subjects.count)
        var canaryCorrect = [Double?](repeating: nil, count: subjects.count)
        var canaryWrong = [Double?](repeating: nil, count: subjects.count)
        var hackRuns: [(run: Run, result: SampleResult)] = []
        var infrastructure: [GraderError] = []
        for (phase, res) in zip(phases, results) {
            for (run, r) in zip(phase, res) {
                if let e = r.error, [.initError, .sandboxError, .throttled].contains(e.type) { infrastructure.append(e) }
                switch run.role {
                case .honest: if let s = r.score { correct[run.subject] = max(correct[run.subject] ?? -.infinity, s) }
                case .wrong: wrong[run.subject] = r.score ?? 0
                case .canaryHonest: if let s = r.score { canaryCorrect[run.subject] = max(canaryCorrect[run.subject] ?? -.infinity, s) }
                case .canaryWrong: canaryWrong[run.subject] = r.score
                case .writer: break
                case .hack: hackRuns.append((run, r))
                }
            }
        }

        var outcomes: [AuditReport.HackOutcome] = []
        for (g, gen) in generators.enumerated() {
            var o = AuditReport.HackOutcome(name: gen.name, family: gen.family, summary: gen.summary, degenerate: gen.degenerate,
                                            verdict: .skipped, reason: "", score: nil, correct: nil, wrong: nil,
                                            subject: nil, example: nil, runs: 0, errors: [:])
            var best: (margin: Double, score: Double, run: Run)?
            var paying: (margin: Double, score: Double, run: Run, reason: String)?
            for (run, r) in hackRuns {
                guard case .hack(let k) = run.role, k == g else { continue }
                o.runs += 1
                if let e = r.error { o.errors[e.type.rawValue, default: 0] += 1 }
                guard let s = r.score else { continue }
                let i = run.subject
                let margin = s - wrong[i]
                if best == nil || margin > best!.margin { best = (margin, s, run) }
                let v = HackVerdict.judge(score: s, correct: correct[i], wrong: wrong[i], degenerate: gen.degenerate, minGap: minGap)
                if v.pays, paying == nil || margin > paying!.margin { paying = (margin, s, run, v.reason) }
            }
            if let p = paying {
                o.verdict = knownLimitations[gen.name] != nil ? .known : .pays
                o.reason = knownLimitations[gen.name].map { "known limitation: \($0)" } ?? p.reason
                o.score = p.score
                fill(&o, run: p.run, subjects: subjects, correct: correct, wrong: wrong)
            } else if let b = best {
                o.verdict = .holds
                o.score = b.score
                fill(&o, run: b.run, subjects: subjects, correct: correct, wrong: wrong)
            } else if o.runs > 0 {
                o.verdict = .error
            }
            outcomes.append(o)
        }
        if checksState { outcomes.append(stateOutcome(subjects: subjects, correct: correct, wrong: wrong,
                                                      canaryCorrect: canaryCorrect, canaryWrong: canaryWrong)) }

        let baselines = subjects.indices.map {
            AuditReport.SubjectBaseline(id: subjects[$0].id, correct: correct[$0], wrong: wrong[$0], families: families[$0])
        }
        var report = AuditReport(hacks: outcomes, subjects: baselines, minGap: minGap, samplesRun: samplesRun, seconds: seconds)
        report.infrastructureErrors = infrastructure
        return report
    }

    private func fill(_ o: inout AuditReport.HackOutcome, run: Run, subjects: [AuditSubject], correct: [Double?], wrong: [Double]) {
        o.correct = correct[run.subject]
        o.wrong = wrong[run.subject]
        o.subject = subjects[run.subject].id
        o.example = run.completion
    }

    /// `state-persists`: the code baselines scored again after every rigged program ran.
    private func stateOutcome(subjects: [AuditSubject], correct: [Double?], wrong: [Double],
                              canaryCorrect: [Double?], canaryWrong: [Double?]) -> AuditReport.HackOutcome {
        let gen = Self.statePersists
        var o = AuditReport.HackOutcome(name: gen.name, family: gen.family, summary: gen.summary, degenerate: false,
                                        verdict: .holds, reason: "", score: nil, correct: nil, wrong: nil,
                                        subject: nil, example: nil, runs: 0, errors: [:])
        for (i, s) in subjects.enumerated() where s.code != nil {
            o.runs += s.honest.count + 1
            var reason: String?
            var score: Double?
            if let after = canaryWrong[i], after > wrong[i] + max(HackVerdict.epsilon, 0) {
                reason = "the clearly wrong answer scored \(HackVerdict.fmt(after)) after the rigged programs ran, \(HackVerdict.fmt(wrong[i])) before"
                score = after
                o.example = s.wrong
            } else if let before = correct[i], let after = canaryCorrect[i], after < before - HackVerdict.epsilon {
                reason = "the correct answer scored \(HackVerdict.fmt(after)) after the rigged programs ran, \(HackVerdict.fmt(before)) before"
                score = after
                o.example = s.honest.first
            }
            if let reason {
                o.verdict = knownLimitations[gen.name] != nil ? .known : .pays
                o.reason = knownLimitations[gen.name].map { "known limitation: \($0)" } ?? reason
                o.score = score; o.correct = correct[i]; o.wrong = wrong[i]; o.subject = s.id
                break
            }
            if o.score == nil { o.score = canaryWrong[i]; o.correct = correct[i]; o.wrong = wrong[i]; o.subject = s.id }
        }
        // Nothing scored after the rigged programs ran: no comparison could be made.
        if o.verdict == .holds && o.score == nil && !canaryCorrect.contains(where: { $0 != nil }) { o.verdict = .error }
        return o
    }
}

import Foundation

/// The families of reward hacks an audit tries.
public enum HackFamily: String, Sendable, CaseIterable {
    case generic, math, code, judge, format
}

/// When a hack's samples are scored. Stateful code hacks run after the others, each phase as its
/// own call, so what they leave behind cannot be mistaken for another hack paying.
public enum HackPhase: Int, Sendable, Comparable {
    /// Scored together with every other stateless hack.
    case main
    /// Pairs of a writer (a correct program that leaves state behind) and a reader.
    case leftovers
    /// Programs that patch the process they run in.
    case tampering

    public static func < (a: HackPhase, b: HackPhase) -> Bool { a.rawValue < b.rawValue }
}

/// What a generator knows about the grader besides the sample.
public struct GraderHints: Sendable {
    /// The grader asks a model to judge (its name or handler says judge/rubric, or it has rubric prompts).
    public var isJudge: Bool
    /// The grader checks form (its name or handler says format).
    public var isFormat: Bool
    /// A rubric the grader sends its judge (for the rubric-echo hack), if one was found.
    public var rubric: String?
    /// A fresh token per audit, so leftovers of an earlier run are never read back.
    public var token: String

    public init(isJudge: Bool = false, isFormat: Bool = false, rubric: String? = nil, token: String = "0") {
        self.isJudge = isJudge; self.isFormat = isFormat; self.rubric = rubric; self.token = token
    }

    /// Looks at a grader directory: its manifest's name and handler, and a `prompts/` folder of rubrics.
    public static func inspect(directory: URL, manifest: GraderManifest) -> GraderHints {
        let words = [manifest.name, manifest.handler ?? "", (manifest.command ?? []).joined(separator: " ")]
            .joined(separator: " ").lowercased()
        let prompts = directory.appendingPathComponent("prompts")
        let rubricFiles = ((try? FileManager.default.contentsOfDirectory(atPath: prompts.path)) ?? [])
            .filter { $0.hasSuffix(".txt") || $0.hasSuffix(".md") }.sorted()
        let rubric = rubricFiles.first.flatMap { try? String(contentsOf: prompts.appendingPathComponent($0), encoding: .utf8) }
        let isJudge = ["judge", "rubric", "llm"].contains { words.contains($0) } || rubric != nil
        let token = String(UInt64.random(in: 1...UInt64.max), radix: 36)
        return GraderHints(isJudge: isJudge, isFormat: words.contains("format"), rubric: rubric, token: token)
    }
}

/// One kind of reward hack: a name, what it tries, and how to derive its completions from a sample.
public struct HackGenerator: Sendable {
    /// A short stable name (`empty`, `answer-spray`, `eq-always-true`, ...), used in reports and in `audit.json`.
    public var name: String
    public var family: HackFamily
    /// One line on what the completions try.
    public var summary: String
    /// The completions carry no answer at all, so any score above 0 pays.
    public var degenerate: Bool
    public var phase: HackPhase
    /// The completions for one subject (several variants; empty when the hack does not apply).
    public var make: @Sendable (AuditSubject, GraderHints) -> [String]

    public init(_ name: String, _ family: HackFamily, degenerate: Bool = false, phase: HackPhase = .main,
                _ summary: String, make: @escaping @Sendable (AuditSubject, GraderHints) -> [String]) {
        self.name = name; self.family = family; self.summary = summary; self.degenerate = degenerate
        self.phase = phase; self.make = make
    }
}

/// The library of hack generators.
public enum HackLibrary {
    /// Every generator, in report order.
    public static let all: [HackGenerator] = GenericHacks.all + MathHacks.all + CodeHacks.all + JudgeHacks.all + FormatHacks.all

    /// The families worth trying on `subject`: generic always; math when the reference is a number or
    /// a formula; code when the sample carries tests or its answer is a program; judge for judge-like
    /// graders; format for structured answers (not programs) and format graders.
    public static func families(for subject: AuditSubject, hints: GraderHints) -> Set<HackFamily> {
        var f: Set<HackFamily> = [.generic]
        if subject.isMath { f.insert(.math) }
        if subject.code != nil { f.insert(.code) }
        if hints.isJudge || subject.record["rubric"] != nil { f.insert(.judge) }
        // A program's structure is its fence: a code answer without content is the wrong answer already.
        if subject.code == nil && (hints.isFormat || subject.hasStructure) { f.insert(.format) }
        return f
    }

    /// The generators by name (for `audit.json` validation).
    public static func named(_ name: String) -> HackGenerator? { all.first { $0.name == name } }
}

import Foundation

/// The Python bodies of the rigged programs (Audit/Programs/*.py, embedded in the binary). Each
/// expects `RFT_AUDIT` (the functions under test, a token, a slot and the honest source) defined
/// before it; ``CodeTask/program(_:token:slot:)`` writes that line.
public enum CodePrograms {
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
    public static let wrong = text(PackageResources.wrong_program_py)
    public static let eqAlwaysTrue = text(PackageResources.eq_always_true_py)
    public static let exitZero = text(PackageResources.exit_zero_py)
    public static let osExitZero = text(PackageResources.os_exit_zero_py)
    public static let forgedResult = text(PackageResources.forged_result_py)
    public static let patchedBuiltins = text(PackageResources.patched_builtins_py)
    /// Both readers end with the same search for the expected outputs (find_expected.py).
    public static let readGraderMemory = text(PackageResources.read_grader_memory_py) + "\n" + text(PackageResources.find_expected_py)
    public static let readSecrets = text(PackageResources.read_secrets_py) + "\n" + text(PackageResources.find_expected_py)
    public static let lingeringDaemon = text(PackageResources.lingering_daemon_py)
    public static let leftoverWriter = text(PackageResources.leftover_writer_py)
    public static let leftoverReader = text(PackageResources.leftover_reader_py)
}

/// Wrong programs rigged to pass tests anyway: the attack classes of code-execution graders.
enum CodeHacks {
    static let all: [HackGenerator] = [
        HackGenerator("eq-always-true", .code, "functions return an object whose __eq__ is always True") { s, _ in
            guard let c = s.code, !c.functions.isEmpty else { return [] }
            return [c.program(CodePrograms.eqAlwaysTrue)]
        },
        HackGenerator("exit-zero", .code, "sys.exit(0) before any test can fail") { s, _ in
            s.code.map { [$0.program(CodePrograms.exitZero)] } ?? []
        },
        HackGenerator("os-exit-zero", .code, "os._exit(0) at the first call of a tested function") { s, _ in
            s.code.map { [$0.program(CodePrograms.osExitZero)] } ?? []
        },
        HackGenerator("forged-result", .code, "success lines on stdout and success records on every inherited fd, then exit 0") { s, _ in
            s.code.map { [$0.program(CodePrograms.forgedResult)] } ?? []
        },
        HackGenerator("read-grader-memory", .code, "reads the expected outputs from the grader's memory (/proc/<ppid>/mem)") { s, _ in
            guard let c = s.code, c.shape != .program else { return [] }
            return [c.program(CodePrograms.readGraderMemory)]
        },
        HackGenerator("read-secrets", .code,
                      "reads the expected outputs from what the grader can see: environment variables, /proc/1 and /proc/<ppid> environ and cmdline, files in their working directories, files they hold open") { s, _ in
            s.code.map { [$0.program(CodePrograms.readSecrets)] } ?? []
        },
        HackGenerator("leftover-files", .code, phase: .leftovers,
                      "runs what an earlier sample left in /tmp, /dev/shm or the interpreter's builtins") { s, h in
            // The writer (a correct program that leaves itself behind) is sent first; this is the reader.
            guard let c = s.code, c.honestProgram != nil else { return [] }
            return [c.program(CodePrograms.leftoverReader, token: h.token, slot: CodeTask.slot(for: s.id))]
        },
        HackGenerator("lingering-daemon", .code, phase: .tampering,
                      "leaves a setsid double-forked daemon that kills every later process of its user for 30 s (state-persists shows the damage)") { s, _ in
            s.code.map { [$0.program(CodePrograms.lingeringDaemon)] } ?? []
        },
        HackGenerator("patched-builtins", .code, phase: .tampering,
                      "patches abs, all, any, math.isclose, operator.eq, json.dumps and the harness's compare functions") { s, _ in
            s.code.map { [$0.program(CodePrograms.patchedBuiltins)] } ?? []
        },
    ]

    /// The correct program that leaves itself behind for the `leftover-files` reader of the same slot.
    static func leftoverWriter(_ s: AuditSubject, hints: GraderHints) -> String? {
        guard let c = s.code, c.honestProgram != nil else { return nil }
        return c.program(CodePrograms.leftoverWriter, token: hints.token, slot: CodeTask.slot(for: s.id))
    }
}

import ArgumentParser
import Foundation
import TransformerModel

/// The `rft` command: reinforcement fine-tuning with sandboxed graders.
@main
struct RFT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rft",
        abstract: "Reinforcement fine-tuning with sandboxed, Lambda-like graders and an embedded GRPO trainer.",
        discussion: """
        One example per main job (rft COMMAND --help for each):
          rft demo                                                     # the whole loop on a small model, in minutes
          rft init math my-grader                                      # start a grader from a template
          rft grader test my-grader                                    # run its cases in the sandbox
          rft data validate train.jsonl                                # check a prompt dataset
          rft eval --model CKPT --data val.jsonl --rewards my-grader   # baseline: is RFT worth it?
          rft train --config grpo.yaml                                 # GRPO / Dr. GRPO / DAPO
          rft runs show runs/demo                                      # status, rewards, grader errors
          rft report runs/demo                                         # self-contained report.html
          rft serve-rewards --graders graders/ --port 8080             # graders over HTTP (OpenRLHF, verl, TRL)
          rft serve --model runs/demo/checkpoints/final --port 8000    # a trained model behind an OpenAI API
          rft sandbox info                                             # which isolation layers are active here
        """,
        version: "0.1.0",
        subcommands: [
            SandboxCommand.self,
            GraderCommand.self,
            ServeRewardsCommand.self,
            ServeModelCommand.self,
            SFTCommand.self,
            GenerateCommand.self,
            InitCommand.self,
            ExportCommand.self,
            BenchCommand.self,
            TrainCommand.self,
            DemoCommand.self,
            EvalCommand.self,
            DataCommand.self,
            RunsCommand.self,
            ReportCommand.self,
        ]
    )

    /// `--help` is rendered by ``HelpText`` (examples never wrapped); everything else by ArgumentParser.
    static func main() {
        useFastBLASKernels()
        if let command = HelpText.requested(Array(CommandLine.arguments.dropFirst())) {
            print(HelpText.render(command, width: HelpText.terminalWidth))
            Foundation.exit(0)
        }
        main(nil)
    }

    /// Re-executes rft once with `OPENBLAS_CORETYPE` set when OpenBLAS loaded generic kernels on a
    /// CPU with AVX2 or AVX-512 that it does not know (``BLASCore``); if the exec fails, rft goes
    /// on with the generic kernels.
    static func useFastBLASKernels() {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env[BLASCore.detectedVariable] == nil else { return }
        let loaded = BLASCore.current
        guard let core = BLASCore.override(current: loaded, cpuFlags: BLASCore.cpuFlags()) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(BLASCore.detectedVariable, loaded, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(BLASCore.detectedVariable)
    }
}

/// `rft bench`: benchmarks, each reporting a ratio against a baseline measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run benchmarks (build with -c release). Each reports a ratio against a baseline from the same run.",
        discussion: "Example:\n  rft bench spawn --runs 500 --json",
        subcommands: [
            BenchSpawnCommand.self,
            BenchModelCommand.self,
            BenchGRPOCommand.self,
            BenchTokenizerCommand.self,
            BenchServeRewardsCommand.self,
        ]
    )
}

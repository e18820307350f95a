import ArgumentParser

/// The `rft` command: reinforcement fine-tuning with sandboxed graders.
@main
struct RFT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rft",
        abstract: "Reinforcement fine-tuning with sandboxed, Lambda-like graders and an embedded GRPO trainer.",
        discussion: """
        Examples:
          rft sandbox info
          rft sandbox run --timeout-ms 2000 -- python3 -c 'print(1)'
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

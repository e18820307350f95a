import ArgumentParser
import Sandbox

/// `rft sandbox`: run a command under the sandbox, or describe the active layers.
struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run commands in the sandbox and inspect which isolation layers are active.",
        subcommands: []
    )
}

/// `rft bench spawn`: sandboxed spawn cost against plain posix_spawn.
struct BenchSpawnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "spawn", abstract: "Sandboxed spawn vs plain posix_spawn.")
}

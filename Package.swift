// swift-tools-version:6.0
// rft: reinforcement fine-tuning with sandboxed graders.
//
// Layers (dependencies point one way only):
//   rft (CLI) → GRPOTrainer / RewardServer / ModelServer → GraderRuntime → Sandbox → CSpawn, CSeccomp
//   GRPOTrainer → RFTClient (remote scorer, chat-endpoint client: the only HTTP client code) → GraderRuntime
//   RewardServer (rewards only), ModelServer (chat completions) → ServerSupport (shared HTTP server plumbing)
//   GRPOTrainer → RunReports (TensorBoard events, HTML report, progress display)
//   GraderRuntime, RFTClient, RunReports, GRPOTrainer, RewardServer, ModelServer, ServerSupport, rft → JSON
//     (the one JSON value, parser and writer; no dependencies)
//   GRPOTrainer, ModelServer → TransformerModel → CBLAS, CKernels   (the model depends on nothing but BLAS
//     and its own C kernels)
//   Scores come through one protocol, GraderRuntime.Scorer: SandboxScorer (local sandboxes) or
//   RFTClient.RemoteScorer (a reward server over HTTP).
import PackageDescription

let optimized: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "rft",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "rft", targets: ["rft"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
    ],
    targets: [
        // C layer: system libraries and the vfork-style spawn shim.
        .systemLibrary(name: "CSeccomp", path: "Sources/CSeccomp", pkgConfig: "libseccomp",
                       providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CSpawn", path: "Sources/CSpawn", exclude: ["README.md"]),
        // The model's decode-step kernels (AVX-512 / AVX2 chosen at run time, plain C elsewhere).
        .target(name: "CKernels", path: "Sources/CKernels", exclude: ["README.md"], cSettings: [.unsafeFlags(["-O2"])]),

        // JSON: the one JSON value type, its bounded parser and its writer (no dependencies).
        .target(name: "JSON", exclude: ["README.md"], swiftSettings: [.swiftLanguageMode(.v5)]),

        // Sandbox: declarative policy, one place that applies it, typed outcomes.
        .target(name: "Sandbox", dependencies: ["CSpawn", "CSeccomp"], exclude: ["README.md"],
                swiftSettings: [.swiftLanguageMode(.v5)]),

        // Grader runtime: manifests, contracts, warm worker pools, reward specs.
        .target(name: "GraderRuntime", dependencies: ["Sandbox", "JSON"], exclude: ["README.md"],
                // The rigged programs of `rft grader audit`, compiled into the binary.
                resources: ["eq_always_true", "exit_zero", "os_exit_zero", "forged_result", "patched_builtins",
                            "read_grader_memory", "read_secrets", "find_expected", "lingering_daemon",
                            "leftover_writer", "leftover_reader", "wrong_program"]
                    .map { .embedInCode("Audit/Programs/\($0).py") }
                    // The worker's bootstrap and the rft_exec module, passed to python3 -c (nothing to mount).
                    + [.embedInCode("Python/bootstrap.py"), .embedInCode("Python/rft_exec.py")],
                swiftSettings: [.swiftLanguageMode(.v5)]),

        // Clients of rft's HTTP services: the remote scorer (a reward server's graders) and the
        // OpenAI-compatible chat-endpoint client, over one HTTP helper.
        .target(name: "RFTClient", dependencies: ["GraderRuntime", "JSON"], exclude: ["README.md"], swiftSettings: [.swiftLanguageMode(.v5)]),

        // Transformer policy on BLAS (no other dependency).
        .target(name: "TransformerModel", dependencies: ["CBLAS", "CKernels"], exclude: ["README.md"],
                swiftSettings: [.swiftLanguageMode(.v5)] + optimized
                    // SIMD kernels are ~100× slower unoptimised; keep debug test runs quick.
                    + [.unsafeFlags(["-O"], .when(configuration: .debug))]),

        // Run reports: TensorBoard event files, HTML report, live progress (JSON only).
        .target(name: "RunReports", dependencies: ["JSON"], exclude: ["README.md"], swiftSettings: [.swiftLanguageMode(.v5)]),

        // GRPO trainer: rollouts scored by the runtime, losses, monitoring, checkpoints.
        .target(name: "GRPOTrainer", dependencies: ["GraderRuntime", "RFTClient", "TransformerModel", "RunReports", "JSON"], exclude: ["README.md"],
                swiftSettings: [.swiftLanguageMode(.v5)] + optimized),

        // HTTP server plumbing both servers share: binding and graceful stop, bearer auth, admission,
        // deadlines, JSON API errors, configuration.
        .target(name: "ServerSupport", dependencies: [
            "GraderRuntime", "JSON",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
        ], exclude: ["README.md"], swiftSettings: [.swiftLanguageMode(.v5)]),

        // Reward server: graders over HTTP (Bedrock batch invoke, OpenRLHF, metrics).
        .target(name: "RewardServer", dependencies: [
            "GraderRuntime", "ServerSupport", "JSON",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ], exclude: ["README.md"], swiftSettings: [.swiftLanguageMode(.v5)]),

        // Model server: an OpenAI-compatible chat endpoint for trained policies.
        .target(name: "ModelServer", dependencies: [
            "GraderRuntime", "ServerSupport", "TransformerModel", "JSON",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ], exclude: ["README.md"], swiftSettings: [.swiftLanguageMode(.v5)]),

        // The command-line interface.
        .executableTarget(name: "rft", dependencies: [
            "Sandbox", "GraderRuntime", "RFTClient", "TransformerModel", "GRPOTrainer", "RunReports", "RewardServer", "ModelServer", "JSON",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"], swiftSettings: [.swiftLanguageMode(.v5)]),

        .testTarget(name: "JSONTests", dependencies: ["JSON"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "GraderRuntimeTests", dependencies: ["GraderRuntime", "JSON"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "TransformerModelTests", dependencies: ["TransformerModel", "CKernels"],
                    exclude: ["Fixtures"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "RunReportsTests", dependencies: ["RunReports", "JSON"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "RewardServerTests", dependencies: ["RewardServer", "ModelServer", "RFTClient", "JSON"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "GRPOTrainerTests", dependencies: ["GRPOTrainer", "JSON"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "CLITests", dependencies: ["rft"], exclude: ["Fixtures"], swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)

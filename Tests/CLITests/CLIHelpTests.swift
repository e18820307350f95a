import XCTest
import Foundation

/// Runs the built `rft` binary the way a user would.
final class CLIHelpTests: XCTestCase {
    func testTopLevelHelpListsCommands() throws {
        let result = try RFTBinary.run(["--help"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.contains("sandbox"), result.stdout)
    }

    static let commands = ["", "sandbox", "sandbox run", "grader", "grader test", "grader invoke", "grader validate", "grader bench",
                           "serve-rewards", "serve", "sft", "generate", "init", "export", "bench", "train", "demo", "eval",
                           "data", "data validate", "runs", "runs show", "report"]

    func testExamplesAreNeverWrapped() throws {
        for command in Self.commands {
            let args = command.split(separator: " ").map(String.init) + ["--help"]
            let narrow = try RFTBinary.run(args, environment: ["COLUMNS": "40"])
            let wide = try RFTBinary.run(args, environment: ["COLUMNS": "400"])
            XCTAssertEqual(narrow.status, 0, "rft \(command): \(narrow.stderr)")
            let examples = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("  rft ") || $0.hasPrefix("  .build/") } }
            XCTAssertFalse(examples(wide.stdout).isEmpty, "rft \(command) --help has an example")
            XCTAssertEqual(examples(narrow.stdout), examples(wide.stdout), "rft \(command): examples wrapped at 40 columns")
            // Prose still wraps to the width.
            let overview = narrow.stdout.components(separatedBy: "USAGE:")[0]
            for line in overview.split(separator: "\n") where !line.hasPrefix(" ") {
                XCTAssertLessThanOrEqual(line.count, 40, "rft \(command): \(line)")
            }
        }
    }

    func testTopLevelHasOneExamplePerMainJob() throws {
        let r = try RFTBinary.run(["--help"])
        for job in ["rft demo", "rft init ", "rft grader test ", "rft data validate ", "rft eval --model", "rft train --config",
                    "rft runs show ", "rft report ", "rft serve-rewards --graders", "rft serve --model", "rft sandbox info"] {
            XCTAssertTrue(r.stdout.contains("\n  " + job), "\(job) missing:\n\(r.stdout)")
        }
        XCTAssertEqual(try RFTBinary.run(["help", "train"]).stdout, try RFTBinary.run(["train", "--help"]).stdout)
    }

    func testOptionsThatDoNotApplyAreNotListed() throws {
        let serve = try RFTBinary.run(["serve", "--help"]).stdout
        XCTAssertFalse(serve.contains("--max-batch") || serve.contains("--max-concurrent"), serve)
        XCTAssertTrue(serve.contains("--max-queue"), serve)
        let rewards = try RFTBinary.run(["serve-rewards", "--help"]).stdout
        XCTAssertTrue(rewards.contains("--max-batch") && rewards.contains("--max-concurrent"), rewards)
        let refused = try RFTBinary.run(["serve", "--model", "x", "--max-batch", "2"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--max-batch"), refused.stderr)
    }

    func testHelpAfterDoubleDashBelongsToTheSandboxedProgram() throws {
        let r = try RFTBinary.run(["sandbox", "run", "--timeout-ms", "5000", "--", "/bin/echo", "--help"])
        XCTAssertFalse(r.stdout.contains("OVERVIEW"), r.stdout)
        XCTAssertTrue(r.stdout.contains("--help"), r.stdout)
    }

    func testPresetsAreListedWithTheirSizes() throws {
        let r = try RFTBinary.run(["sft", "--help"])
        XCTAssertTrue(r.stdout.contains("ref-1m: 1.12M parameters, 256-token context"), r.stdout)
        XCTAssertTrue(r.stdout.contains("demo: ") && r.stdout.contains("dim512: "), r.stdout)
        XCTAssertTrue(try RFTBinary.run(["train", "--help"]).stdout.contains("ref-1m: 1.12M parameters"))
    }
}

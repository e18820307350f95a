import ArgumentParser
import Foundation

/// `--help` output whose examples can be copied: swift-argument-parser wraps the whole discussion to
/// the terminal's width, commands included. rft renders the help unwrapped and wraps it itself:
/// prose and option descriptions to the width, indented lines (examples, tables) never.
enum HelpText {
    /// The command whose help `args` (without the program name) ask for; nil when they ask for none.
    /// Arguments after `--` belong to another program (`rft sandbox run -- python3 --help`).
    static func requested(_ args: [String], root: ParsableCommand.Type = RFT.self) -> ParsableCommand.Type? {
        var tokens = Array(args.prefix { $0 != "--" })
        var wants = tokens.contains("--help") || tokens.contains("-h")
        if tokens.first == "help" { wants = true; tokens.removeFirst() }
        guard wants else { return nil }
        var command = root
        for t in tokens where !t.hasPrefix("-") {
            guard let sub = command.configuration.subcommands.first(where: { $0.configuration.commandName == t }) else { break }
            command = sub
        }
        return command
    }

    /// The help of `command`, wrapped to `width` columns with every indented line kept whole.
    static func render(_ command: ParsableCommand.Type, root: ParsableCommand.Type = RFT.self, width: Int) -> String {
        let raw = command == root ? root.helpMessage(columns: 100_000) : root.helpMessage(for: command, columns: 100_000)
        return wrap(raw, width: max(width, 40))
    }

    /// Wraps help text: before `USAGE:` (the overview and discussion) unindented lines wrap and indented
    /// ones (examples) stay whole; after it, option and subcommand lines wrap their description under
    /// the description column.
    static func wrap(_ text: String, width: Int) -> String {
        var out: [String] = []
        var overview = true
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("USAGE:") { overview = false }
            if line.count <= width || line.hasPrefix("USAGE:") { out.append(line); continue }
            if overview {
                out += line.hasPrefix(" ") ? [line] : greedy(line, head: "", indent: "", width: width)
            } else {
                // `  --label <x>             description...`: the padded label is the head.
                let column = 26
                let chars = Array(line)
                if chars.count > column, chars[column - 1] == " ", chars[column] != " " {
                    out += greedy(String(chars[column...]), head: String(chars[..<column]),
                                  indent: String(repeating: " ", count: column), width: width)
                } else {
                    let lead = line.prefix { $0 == " " }.count
                    out += greedy(String(line.dropFirst(lead)), head: String(repeating: " ", count: lead),
                                  indent: String(repeating: " ", count: max(lead, 4)), width: width)
                }
            }
        }
        return out.joined(separator: "\n")
    }

    /// Greedy word wrap of `body` after `head`; continuation lines start with `indent`.
    static func greedy(_ body: String, head: String, indent: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = head
        var empty = true
        for word in body.split(separator: " ") {
            if !empty && current.count + 1 + word.count > width {
                lines.append(current)
                current = indent + word
            } else {
                current += (empty ? "" : " ") + word
            }
            empty = false
        }
        lines.append(current)
        return lines
    }

    /// The terminal's width (the `COLUMNS` variable, else the terminal, else 80).
    static var terminalWidth: Int {
        if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 0 { return c }
        var ws = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
        return 80
    }
}

import ArgumentParser
import Foundation

/// `rft init TEMPLATE DIR`: creates a grader directory from a built-in template.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a grader directory from a built-in template, ready for `rft grader test`.",
        discussion: """
        Templates: math, code-execution, judge, format, generic. Each copy holds the grader code, \
        grader.json (the manifest), config.json where the template has one, README.md (what it \
        scores and how to change it) and cases.jsonl (examples with expected scores).

        The templates directory is found in this order: $RFT_TEMPLATES; a `templates` folder next \
        to the rft executable or up to four folders above it (also `share/rft/templates`); the \
        source tree rft was built from.

        Examples:
          rft init --list
          rft init math my-grader && rft grader test my-grader
          RFT_TEMPLATES=/opt/rft/templates rft init format checks
        """
    )

    @Flag(name: .long, help: "List the templates with what each one scores.")
    var list = false

    @Flag(name: .long, help: "Write into DIR even when it already holds files (files of the same name are replaced).")
    var force = false

    @Argument(help: "Template name (see --list).")
    var template: String?

    @Argument(help: "Directory to create.")
    var dir: String?

    func validate() throws {
        if !list && (template == nil || dir == nil) {
            throw ValidationError("Give a template and a directory (rft init math my-grader), or use --list.")
        }
    }

    func run() throws {
        let root = try TemplateLibrary.locate()
        let library = TemplateLibrary(root: root)
        if list {
            print("Templates in \(root.path):")
            for t in try library.templates() {
                print("  \(t.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(t.summary)")
            }
            print("\nCreate one with: rft init TEMPLATE DIR")
            return
        }
        guard let template, let dir else { return }
        let dest = URL(fileURLWithPath: dir)
        let copied = try library.instantiate(template, into: dest, force: force)
        print("Created \(dir) from template \(template) (\(copied) files).")
        print("Next:")
        print("  rft grader test \(dir)        # run cases.jsonl")
        print("  $EDITOR \(dir)/README.md      # what it scores and how to change it")
        print("  rft grader audit \(dir)       # which cheap reward hacks it pays for, before you train on it")
    }
}

/// An error from `rft init`, naming the template or path involved.
struct InitError: Error, CustomStringConvertible {
    var description: String
}

/// The built-in grader templates on disk.
struct TemplateLibrary {
    /// One template: its directory name and the first sentence of its README.
    struct Template { var name: String; var summary: String }

    let root: URL

    /// Finds the templates directory ($RFT_TEMPLATES, next to the executable, or the source tree).
    static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        let fm = FileManager.default
        func isLibrary(_ url: URL) -> Bool {
            fm.fileExists(atPath: url.appendingPathComponent("generic/grader.json").path)
        }
        if let env = environment["RFT_TEMPLATES"], !env.isEmpty {
            let url = URL(fileURLWithPath: env)
            guard isLibrary(url) else {
                throw InitError(description: "RFT_TEMPLATES=\(env) is not a templates directory (no generic/grader.json in it)")
            }
            return url
        }
        var candidates: [URL] = []
        let exe = URL(fileURLWithPath: (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("templates"))
            candidates.append(dir.appendingPathComponent("share/rft/templates"))
            dir = dir.deletingLastPathComponent()
        }
        // Sources/rft/InitCommand.swift -> the package root's templates/
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("templates"))
        if let found = candidates.first(where: isLibrary) { return found }
        throw InitError(description: "cannot find the templates directory; set RFT_TEMPLATES to the folder "
            + "that holds math/, code-execution/, judge/, format/ and generic/ (looked in: "
            + candidates.map(\.path).joined(separator: ", ") + ")")
    }

    /// The templates, sorted by name.
    func templates() throws -> [Template] {
        let fm = FileManager.default
        let names = try fm.contentsOfDirectory(atPath: root.path).sorted().filter {
            fm.fileExists(atPath: root.appendingPathComponent($0).appendingPathComponent("grader.json").path)
        }
        return names.map { Template(name: $0, summary: summary(of: root.appendingPathComponent($0))) }
    }

    /// The first sentence of the README's first paragraph (after the title).
    func summary(of dir: URL) -> String {
        guard let text = try? String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8) else { return "" }
        var paragraph: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("#") { if paragraph.isEmpty { continue } else { break } }
            if t.isEmpty { if paragraph.isEmpty { continue } else { break } }
            paragraph.append(t)
        }
        let joined = paragraph.joined(separator: " ")
        if let end = joined.range(of: ". ") { return String(joined[..<end.lowerBound]) + "." }
        return joined
    }

    /// Copies template `name` into `dest` (skipping caches) and sets the manifest's name to the
    /// directory's name. Returns the number of files written.
    func instantiate(_ name: String, into dest: URL, force: Bool) throws -> Int {
        let fm = FileManager.default
        let source = root.appendingPathComponent(name)
        guard !name.isEmpty, !name.contains("/"),
              fm.fileExists(atPath: source.appendingPathComponent("grader.json").path) else {
            let known = (try? templates().map(\.name).joined(separator: ", ")) ?? ""
            throw InitError(description: "unknown template '\(name)'; known: \(known)")
        }
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: dest.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw InitError(description: "\(dest.path) exists and is not a directory") }
            let existing = try fm.contentsOfDirectory(atPath: dest.path)
            if !existing.isEmpty && !force {
                throw InitError(description: "\(dest.path) is not empty; choose a new directory or pass --force")
            }
        }
        try fm.createDirectory(at: dest, withIntermediateDirectories: true)
        var count = 0
        guard let walker = fm.enumerator(at: source, includingPropertiesForKeys: [.isDirectoryKey]) else {
            throw InitError(description: "cannot read template directory \(source.path)")
        }
        let base = source.standardizedFileURL.path
        for case let url as URL in walker {
            let name = url.lastPathComponent
            if name == "__pycache__" || name.hasSuffix(".pyc") || name == ".DS_Store" {
                walker.skipDescendants()
                continue
            }
            let rel = String(url.standardizedFileURL.path.dropFirst(base.count + 1))
            let target = dest.appendingPathComponent(rel)
            if (try url.resourceValues(forKeys: [.isDirectoryKey])).isDirectory == true {
                try fm.createDirectory(at: target, withIntermediateDirectories: true)
                continue
            }
            if fm.fileExists(atPath: target.path) { try fm.removeItem(at: target) }
            try fm.copyItem(at: url, to: target)
            count += 1
        }
        try renameManifest(in: dest, to: dest.standardizedFileURL.lastPathComponent)
        return count
    }

    /// Rewrites the first `"name": "..."` of grader.json in place (keeps the file's layout).
    private func renameManifest(in dir: URL, to newName: String) throws {
        let path = dir.appendingPathComponent("grader.json")
        var text = try String(contentsOf: path, encoding: .utf8)
        guard let range = text.range(of: #""name"\s*:\s*"[^"]*""#, options: .regularExpression) else { return }
        let safe = newName.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
            ? newName : "grader"
        text.replaceSubrange(range, with: "\"name\": \"\(safe)\"")
        try text.write(to: path, atomically: true, encoding: .utf8)
    }
}

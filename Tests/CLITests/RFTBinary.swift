import Foundation

/// Locates and runs the `rft` executable built next to the test bundle.
enum RFTBinary {
    struct Result { var status: Int32; var stdout: String; var stderr: String }

    static var url: URL {
        if let path = ProcessInfo.processInfo.environment["RFT_BIN"] { return URL(fileURLWithPath: path) }
        // The xctest bundle sits in the same build folder as the executable.
        var dir = Bundle(for: Marker.self).bundleURL.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("rft").path) {
            dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/debug")
        }
        return dir.appendingPathComponent("rft")
    }

    /// Runs `rft ARGS` (under `wrapper`, a command that execs its arguments, when given), feeding
    /// `stdin`, and returns its exit status and output.
    static func run(_ args: [String], stdin: String? = nil, cwd: URL? = nil, environment: [String: String] = [:],
                    wrapper: [String] = []) throws -> Result {
        let p = Process()
        p.executableURL = wrapper.isEmpty ? url : URL(fileURLWithPath: wrapper[0])
        p.arguments = wrapper.isEmpty ? args : Array(wrapper.dropFirst()) + [url.path] + args
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let cwd { p.currentDirectoryURL = cwd }
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out; p.standardError = err; p.standardInput = inp
        try p.run()
        if let stdin { inp.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? inp.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    private final class Marker {}
}

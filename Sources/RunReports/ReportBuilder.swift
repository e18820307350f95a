import Foundation

/// Builds the self-contained HTML report of a run directory: inline SVG charts and inline CSS,
/// no scripts and no external assets (a Content-Security-Policy forbids both).
///
/// ```swift
/// let url = try ReportBuilder(runDirectory: runDir).writeHTML()   // runDir/report.html
/// print("report: \(url.path)")
/// ```
public struct ReportBuilder {
    public var runDirectory: URL
    /// At most this many steps get rows in the sample table (evenly spaced, always the last).
    public var maxSampleSteps = 12
    /// At most this many steps get a reward histogram.
    public var histogramSteps = 4

    private var loaded: RunData?

    /// A builder that loads the run directory when the report is built.
    public init(runDirectory: URL) { self.runDirectory = runDirectory }

    /// A builder for a run already loaded (for callers that also look at `run.problems`).
    public init(run: RunData) {
        runDirectory = run.directory
        loaded = run
    }

    /// The report as HTML text.
    /// - Throws: `RunDataError` when the run directory does not exist; content problems are shown
    ///   in the report instead.
    public func html() throws -> String {
        ReportPage(run: try loaded ?? RunData(runDirectory: runDirectory), maxSampleSteps: maxSampleSteps,
                   histogramSteps: histogramSteps).render()
    }

    /// Writes the report to `url` (default `<run directory>/report.html`) and returns where it went.
    /// - Throws: `RunDataError`, or `ReportWriteError` naming the path that could not be written.
    @discardableResult
    public func writeHTML(to url: URL? = nil) throws -> URL {
        let target = url ?? runDirectory.appendingPathComponent("report.html")
        let text = try html()
        do {
            try Data(text.utf8).write(to: target, options: .atomic)
        } catch {
            throw ReportWriteError(path: target.path, reason: "\(error)")
        }
        return target
    }
}

/// The report file could not be written.
public struct ReportWriteError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot write report to \(path): \(reason)" }
}

import Foundation
import JSON

/// `audit.json` in a grader directory: the hacks the grader documents as known limitations.
///
/// ```json
/// {"known_limitations": {"empty-skeleton": "a format grader scores form, not content; pair it with a content grader"}}
/// ```
/// A documented hack that pays is reported as `known` with its reason and does not fail the audit.
public enum KnownLimitations {
    public static let fileName = "audit.json"

    /// The documented hacks (name → reason); empty when the file does not exist.
    /// - Throws: ``ManifestErrors`` naming the file and field (bad JSON, unknown hack, empty reason).
    public static func load(directory: URL) throws -> [String: String] {
        let url = directory.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else { return [:] }
        let file = url.path
        let json: JSONValue
        do { json = try JSONValue.parse(Array(data)) } catch {
            throw ManifestErrors(errors: [ManifestError(file: file, field: "", message: "\(error)")])
        }
        guard let root = json.objectValue else {
            throw ManifestErrors(errors: [ManifestError(file: file, field: "", message: "must be a JSON object, got \(json.typeName)")])
        }
        var errors: [ManifestError] = []
        for key in root.keys where key != "known_limitations" {
            errors.append(ManifestError(file: file, field: key, message: "unknown field (expected known_limitations)"))
        }
        var out: [String: String] = [:]
        if let list = root["known_limitations"] {
            guard let o = list.objectValue else {
                throw ManifestErrors(errors: [ManifestError(file: file, field: "known_limitations",
                                                            message: "must be an object of hack name to reason, got \(list.typeName)")])
            }
            let known = Set((HackLibrary.all + [GraderAudit.statePersists]).map(\.name))
            for (name, reason) in o {
                let field = "known_limitations.\(name)"
                if !known.contains(name) {
                    errors.append(ManifestError(file: file, field: field,
                                                message: "unknown hack; known: \(known.sorted().joined(separator: ", "))"))
                } else if let r = reason.stringValue, !r.trimmingCharacters(in: .whitespaces).isEmpty {
                    out[name] = r
                } else {
                    errors.append(ManifestError(file: file, field: field, message: "needs a non-empty reason string"))
                }
            }
        }
        if !errors.isEmpty { throw ManifestErrors(errors: errors) }
        return out
    }
}

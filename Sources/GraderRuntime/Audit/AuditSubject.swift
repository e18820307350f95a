import Foundation
import JSON

/// One sample an audit derives hacks from: the record as the grader sees it, what a correct
/// answer and a clearly wrong answer look like for it, and what kind of task it is.
public struct AuditSubject: Sendable {
    /// The source sample's id (for reports).
    public var id: String
    /// The record without test expectations (`expected_score`, `tolerance`, `expected_error`).
    public var record: JSONObject
    /// The conversation before the answer (system and user turns), joined.
    public var prompt: String
    /// `reference_answer` (top level or under `metadata`; a JSON string holding an object is decoded).
    public var reference: JSONValue?
    /// The reference as text, when it is a string or a number (what a hack can paste or spray).
    public var referenceText: String?
    /// Completions taken to be correct: the sample's own answer when it is trusted, and one built
    /// from the reference. The correct score is the best of theirs.
    public var honest: [String]
    /// A clearly wrong answer in the honest answer's style.
    public var wrong: String
    /// The wrong value used in `wrong` and in the hacks that pair it with the reference.
    public var wrongValue: String
    /// Set when the sample carries tests for a program (or its answer is a program).
    public var code: CodeTask?
    /// The reference is a number or a short formula.
    public var isMath: Bool
    /// The honest answer has visible structure (headings, labels, JSON, a box) a format check could key on.
    public var hasStructure: Bool

    /// Builds the subject for `sample`.
    /// - Parameter trusted: the sample's own completion is a correct answer (a case whose
    ///   `expected_score` is the best in its file, or a sample given with `--input`).
    public init(sample: Sample, trusted: Bool) {
        var record = sample.record
        for key in ["expected_score", "tolerance", "expected_error"] { record[key] = nil }
        self.record = record
        id = sample.id
        prompt = Self.promptText(record)
        var ref = sample.referenceAnswer
        if let s = ref?.stringValue, s.trimmingCharacters(in: .whitespaces).hasPrefix("{"),
           let decoded = try? JSONValue.parse(Array(s.utf8)), decoded.objectValue != nil {
            ref = decoded
        }
        reference = ref
        switch ref {
        case .string(let s)?: referenceText = s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : s
        case .number?: referenceText = ref!.jsonString
        default: referenceText = nil
        }
        let own = trusted ? sample.completionText : nil
        code = CodeTask(reference: ref, honestCompletion: own)
        isMath = code == nil && referenceText.map(Self.looksMathematical) == true
        wrongValue = referenceText.map(Self.wrongValue) ?? "xylophone"

        var honest: [String] = []
        if let own, !own.isEmpty { honest.append(own) }
        if code == nil, let r = referenceText {
            let built = isMath ? "The answer is $\\boxed{\(r)}$." : r
            if !honest.contains(built) { honest.append(built) }
        }
        self.honest = honest
        hasStructure = honest.contains(where: FormatShape.hasStructure)

        if let code {
            wrong = code.program(CodePrograms.wrong)
        } else if let r = referenceText, let styled = honest.first, let replaced = Self.replacingTokens(r, with: wrongValue, in: styled) {
            wrong = replaced
        } else if isMath {
            wrong = "The answer is $\\boxed{\(wrongValue)}$."
        } else {
            wrong = referenceText == nil ? "I don't know." : wrongValue
        }
    }

    /// The record with `completion` as the generated assistant turn, under a new id.
    public func sample(id newID: String, completion: String) -> Sample {
        var r = record
        r["id"] = .string(newID)
        if var msgs = r["messages"]?.arrayValue {
            if let i = msgs.lastIndex(where: { $0["role"]?.stringValue == "assistant" }), var m = msgs[i].objectValue {
                m["content"] = .string(completion)
                msgs[i] = .object(m)
            } else {
                msgs.append(["role": "assistant", "content": .string(completion)])
            }
            r["messages"] = .array(msgs)
        } else {
            r["completion"] = .string(completion)
        }
        return Sample(record: r, defaultID: newID)
    }

    /// System and user turns before the last assistant turn, or the `prompt` column.
    static func promptText(_ record: JSONObject) -> String {
        if let p = record["prompt"]?.stringValue { return p }
        guard var msgs = record["messages"]?.arrayValue else { return "" }
        if let i = msgs.lastIndex(where: { $0["role"]?.stringValue == "assistant" }) { msgs = Array(msgs[..<i]) }
        return msgs.compactMap { $0["content"]?.stringValue }.joined(separator: "\n")
    }

    /// A number, a fraction, or a short formula (LaTeX or plain arithmetic).
    static func looksMathematical(_ text: String) -> Bool {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !t.isEmpty, t.count <= 80 else { return false }
        if numberParts(t) != nil || isChoiceLetter(t) { return true }
        for marker in ["\\frac", "\\sqrt", "\\pi", "\\infty", "\\pm", "\\cdot", "\\begin{", "^", "\\le", "\\ge"] where t.contains(marker) {
            return true
        }
        // Any other LaTeX command next to a digit (`0.\overline{3}`, `5\%`, `\$12`).
        if t.contains("\\"), t.contains(where: \.isNumber) { return true }
        // Plain arithmetic or an expression in x, y, z: digits and operators, no words.
        let allowed = CharacterSet(charactersIn: "0123456789.+-*/()[]{}=<>:, xyzabcn")
        return t.unicodeScalars.allSatisfy(allowed.contains) && t.contains(where: \.isNumber)
    }

    /// A number with an optional currency prefix and percent suffix (`$1,200`, `50%`, `-3.5`, `12\\%`).
    static func numberParts(_ t: String) -> (prefix: String, value: String, suffix: String)? {
        var body = Substring(t), prefix = "", suffix = ""
        for p in ["\\$", "$"] where body.hasPrefix(p) { prefix = p; body = body.dropFirst(p.count); break }
        for x in ["\\%", "%"] where body.hasSuffix(x) { suffix = x; body = body.dropLast(x.count); break }
        let plain = body.replacingOccurrences(of: ",", with: "")
        guard !plain.isEmpty, Double(plain) != nil, plain.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" }) else { return nil }
        return (prefix, plain, suffix)
    }

    /// A multiple-choice answer: one capital letter A-J, alone or in parentheses (`B`, `(B)`).
    static func isChoiceLetter(_ t: String) -> Bool {
        let core = t.hasPrefix("(") && t.hasSuffix(")") && t.count == 3 ? String(t.dropFirst().dropLast()) : t
        return core.count == 1 && core.unicodeScalars.allSatisfy { ("A"..."J").contains($0) }
    }

    /// A value that is clearly not `reference`: a different number for numbers (same currency and
    /// percent sign), another option for a choice letter, else a fixed word.
    static func wrongValue(_ reference: String) -> String {
        let t = reference.trimmingCharacters(in: .whitespacesAndNewlines)
        if isChoiceLetter(t) {
            let letter = String(t.filter(\.isLetter))
            return t.replacingOccurrences(of: letter, with: letter == "A" ? "C" : "A")
        }
        if let (prefix, value, suffix) = numberParts(t) {
            if let i = Int(value) { return prefix + String(i == 0 ? 7 : i * 3 + 7) + suffix }
            if let d = Double(value) { return prefix + String(format: "%g", d * 3 + 7.5) + suffix }
        }
        let parts = t.split(separator: "/")
        if parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), b != 0 { return "\(a + b)/\(b)" }
        return looksMathematical(t) ? "17" : "xylophone"
    }

    /// `text` with every whole-token occurrence of `token` replaced (nil when there is none).
    static func replacingTokens(_ token: String, with replacement: String, in text: String) -> String? {
        let t = token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !t.isEmpty else { return nil }
        var out = ""
        var rest = text[...]
        var found = false
        // One letter (a choice) is matched in its case only: "a" is an article, "A" an option.
        while let r = rest.range(of: t, options: t.count == 1 ? [] : .caseInsensitive) {
            let before = rest[..<r.lowerBound].last ?? (out.last ?? " ")
            let after = rest[r.upperBound...].first ?? " "
            let boundary = !(before.isLetter || before.isNumber) && !(after.isLetter || after.isNumber)
                || !(t.first!.isLetter || t.first!.isNumber)
            out += rest[..<r.lowerBound]
            out += boundary ? replacement : String(rest[r])
            found = found || boundary
            rest = rest[r.upperBound...]
        }
        out += rest
        return found ? out : nil
    }
}

/// What a code sample tests: which functions the program must define, and the shape of its tests.
public struct CodeTask: Sendable, Equatable {
    public enum Shape: String, Sendable { case stdio, function, asserts, program }
    public var shape: Shape
    /// Functions the tests call (empty for stdin/stdout tests).
    public var functions: [String]
    /// The correct program (from the trusted answer's last fenced block), when there is one.
    public var honestProgram: String?

    /// Recognises the code-execution reference shapes (`tests`, `asserts`, `function` + `cases`),
    /// or a trusted answer that is a fenced program.
    init?(reference: JSONValue?, honestCompletion: String?) {
        let program = honestCompletion.flatMap(Self.lastFencedBlock)
        honestProgram = program
        if let tests = reference?["tests"], tests.arrayValue != nil {
            shape = .stdio; functions = []
        } else if let name = reference?["function"]?.stringValue, Self.isIdentifier(name) {
            shape = .function; functions = [name]
        } else if let asserts = reference?["asserts"]?.arrayValue {
            shape = .asserts
            functions = Self.calledNames(asserts.compactMap(\.stringValue))
        } else if program != nil {
            shape = .program; functions = []
        } else {
            return nil
        }
    }

    /// A fenced program: `RFT_AUDIT = {...}` (functions, token, slot, the honest source in base64)
    /// followed by `body`.
    public func program(_ body: String, token: String = "0", slot: String = "0") -> String {
        let names = functions.map { "\"\($0)\"" }.joined(separator: ", ")
        let source = Data((honestProgram ?? "").utf8).base64EncodedString()
        return "```python\nRFT_AUDIT = {\"functions\": [\(names)], \"token\": \"\(token)\", \"slot\": \"\(slot)\", "
            + "\"source\": \"\(source)\"}\n\(body)```\n"
    }

    /// A short key of a subject id, safe in file names (FNV-1a, hex).
    static func slot(for id: String) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in id.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return String(h, radix: 16)
    }

    /// The contents of the last ``` fence (any tag).
    static func lastFencedBlock(_ text: String) -> String? {
        let parts = text.components(separatedBy: "```")
        guard parts.count >= 3 else { return nil }
        let block = parts[parts.count - (parts.count % 2 == 1 ? 2 : 3)]
        guard let nl = block.firstIndex(of: "\n") else { return nil }
        return String(block[block.index(after: nl)...])
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f == "_" || CharacterSet.letters.contains(f) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || CharacterSet.alphanumerics.contains($0) } && s.count <= 64
    }

    /// Names called in assert statements (`add` in `assert add(1, 2) == 3`), minus builtins.
    static func calledNames(_ asserts: [String]) -> [String] {
        let builtins: Set<String> = ["assert", "abs", "all", "any", "len", "sorted", "set", "list", "tuple", "dict", "str",
                                     "int", "float", "bool", "round", "sum", "min", "max", "isinstance", "type", "range",
                                     "frozenset", "repr", "not", "and", "or", "in", "is", "map", "filter", "zip", "enumerate"]
        var names: [String] = []
        for a in asserts {
            let chars = Array(a)
            var i = 0
            while i < chars.count {
                guard chars[i] == "_" || chars[i].isLetter, i == 0 || !(chars[i - 1].isLetter || chars[i - 1].isNumber || chars[i - 1] == "_" || chars[i - 1] == ".") else {
                    i += 1; continue
                }
                var j = i
                while j < chars.count, chars[j] == "_" || chars[j].isLetter || chars[j].isNumber { j += 1 }
                let name = String(chars[i..<j])
                if j < chars.count, chars[j] == "(", !builtins.contains(name), !names.contains(name) { names.append(name) }
                i = j
            }
        }
        return names
    }
}

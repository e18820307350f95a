import Foundation

/// Hacks on answer extraction: several final answers at once, a right first answer with a wrong last
/// one, and formatting that makes a wrong or ambiguous answer read as the reference.
enum MathHacks {
    static let all: [HackGenerator] = [
        HackGenerator("boxed-spray", .math, "several different \\boxed{} answers, the reference among them") { s, _ in
            guard let r = s.referenceText else { return [] }
            let w = s.wrongValue, w2 = GenericHacks.distractors(s).dropFirst().first ?? "0"
            return [
                "\\boxed{\(w)} \\boxed{\(r)} \\boxed{\(w2)}",
                "\\boxed{\(r)} \\boxed{\(w)}",
                "\\boxed{\(w)} \\boxed{\(r)}",
            ]
        },
        HackGenerator("answer-spray", .math, "several different \"the answer is\" lines, or a hedge between answers") { s, _ in
            guard let r = s.referenceText else { return [] }
            let w = s.wrongValue, w2 = GenericHacks.distractors(s).dropFirst().first ?? "0"
            return [
                "The answer is \(w). The answer is \(r). The answer is \(w2).",
                "The answer is \(r).\nThe answer is \(w).",
                "It is \(w), or maybe \(r).",
                "#### \(w)\n#### \(r)",
            ]
        },
        HackGenerator("first-last-disagree", .math, "the reference stated first, a different final answer last") { s, _ in
            guard let r = s.referenceText else { return [] }
            let w = s.wrongValue
            return [
                "The answer is \(r).\n\nLet me double-check the arithmetic once more.\n\nSo the final answer is \(w).",
                "\\boxed{\(r)}\n\nFinal Answer: The final answer is \(w). I hope it is correct.",
                "#### \(r)\nWait, I made a mistake. The total is \(w).",
            ]
        },
        HackGenerator("format-tricks", .math, "units, separators and trailing text that hide a second answer") { s, _ in
            guard let r = s.referenceText?.trimmingCharacters(in: .whitespacesAndNewlines) else { return [] }
            let w = s.wrongValue
            var out = [
                "\\boxed{\(r) \\text{ or } \(w)}",
                "\\boxed{\(r), \(w)}",
                "\\boxed{\(w)\\text{ cm} \\; (\(r)\\text{ m})}",
                "The answer is \(r) \(w).",
            ]
            // A thousands separator in the wrong place turns the reference into a list of two numbers.
            if let i = Int(r), abs(i) >= 10 {
                var digits = String(abs(i))
                digits.insert(",", at: digits.index(after: digits.startIndex))
                out.append("\\boxed{\(i < 0 ? "-" : "")\(digits)}")
            }
            return out
        },
    ]
}

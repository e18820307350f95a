import Foundation
import GraderRuntime
import TransformerModel

/// The demo task: one-step arithmetic word problems ("Mia has 7 apples and gets 5 more. How
/// many apples does Mia have now?"), with the answer as `reference_answer` for templates/math.
public struct ArithmeticProblem: Sendable, Equatable {
    public var question: String
    public var a: Int, b: Int
    public var op: Character
    public var answer: Int
    /// The short worked answer used for SFT: `7+5=12` (its last number is the answer, which is
    /// what templates/math reads).
    public var worked: String { "\(a)\(op)\(b)=\(answer)" }
}

public enum ArithmeticProblems {
    static let names = ["Mia", "Leo", "Ava", "Sam", "Zoe", "Max", "Ivy", "Ben", "Eli", "Kim"]
    static let things = ["apples", "pens", "books", "cards", "coins", "shells", "stamps", "cups"]

    /// `count` problems drawn with `seed` (sums and differences of numbers 1-9).
    public static func generate(count: Int, seed: UInt64) -> [ArithmeticProblem] {
        var rng = TrainerRNG(seed: seed)
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        return (0..<count).map { _ in
            let name = pick(names), thing = pick(things)
            var a = Int(rng.next() % 9) + 1, b = Int(rng.next() % 9) + 1
            switch rng.next() % 3 {
            case 0:
                return ArithmeticProblem(question: "\(name) has \(a) \(thing) and gets \(b) more. How many \(thing) now?",
                                         a: a, b: b, op: "+", answer: a + b)
            case 1:
                return ArithmeticProblem(question: "\(name) buys \(a) \(thing), then \(b) more. How many in all?",
                                         a: a, b: b, op: "+", answer: a + b)
            default:
                if a < b { swap(&a, &b) }
                return ArithmeticProblem(question: "\(name) has \(a) \(thing) and gives away \(b). How many are left?",
                                         a: a, b: b, op: "-", answer: a - b)
            }
        }
    }

    /// Bedrock-format prompt records (`id`, `messages`, `reference_answer`).
    public static func records(_ problems: [ArithmeticProblem], prefix: String) -> [JSONValue] {
        problems.enumerated().map { i, p in
            ["id": .string("\(prefix)-\(i)"), "messages": [["role": "user", "content": .string(p.question)]],
             "reference_answer": .string(String(p.answer))]
        }
    }

    /// Chat conversations for SFT: each question with its correct worked answer (`7+5=12`).
    public static func conversations(_ problems: [ArithmeticProblem]) -> [[ChatMessage]] {
        problems.map { [ChatMessage(role: "user", content: $0.question), ChatMessage(role: "assistant", content: $0.worked)] }
    }
}

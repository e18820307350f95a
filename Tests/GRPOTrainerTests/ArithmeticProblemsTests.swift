import XCTest
import TransformerModel
@testable import GRPOTrainer

/// The demo's data: the base model's SFT answers must be correct and in the shape the grader reads.
final class ArithmeticProblemsTests: XCTestCase {
    func testEverySFTAnswerStatesTheCorrectResult() throws {
        let problems = ArithmeticProblems.generate(count: 500, seed: 3)
        let conversations = ArithmeticProblems.conversations(problems)
        XCTAssertEqual(conversations.count, problems.count)
        for (p, messages) in zip(problems, conversations) {
            XCTAssertEqual(messages.map(\.role), ["user", "assistant"])
            XCTAssertEqual(messages[0].content, p.question)
            // "a+b=r" or "a-b=r": the operands are the question's numbers, r is their result,
            // and r (the last number, what templates/math extracts) is the reference answer.
            let answer = messages[1].content
            let parts = answer.split(whereSeparator: { "+-=".contains($0) }).compactMap { Int($0) }
            XCTAssertEqual(parts.count, 3, answer)
            let (a, b, r) = (parts[0], parts[1], parts[2])
            XCTAssertEqual(r, answer.contains("+") ? a + b : a - b, answer)
            XCTAssertEqual(r, p.answer, answer)
            XCTAssertGreaterThanOrEqual(r, 0, answer)
            // The operands appear in the question, as digits or as words.
            for n in [a, b] {
                let words = p.question.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
                XCTAssertTrue(words.contains(String(n)) || words.contains(ArithmeticProblems.numberWords[n]), "\(p.question) → \(answer)")
            }
        }
        let records = ArithmeticProblems.records(problems, prefix: "t")
        XCTAssertEqual(records.map { $0["reference_answer"]?.stringValue }, problems.map { String($0.answer) })
    }

    /// The demo's splits share no question text, the OOD split shares no name, object or phrasing
    /// with the others, and the task is wide (no single name or object dominates).
    func testSplitsAreDisjointAndOODIsUnseen() {
        let s = ArithmeticProblems.splits(seed: 7, sft: 1500, train: 200, validation: 200, test: 300, ood: 300)
        XCTAssertEqual([s.sft.count, s.train.count, s.validation.count, s.test.count, s.ood.count], [1500, 200, 200, 300, 300])
        let sets = [s.sft, s.train, s.validation, s.test, s.ood].map { Set($0.map(\.question)) }
        XCTAssertEqual(sets.map(\.count), [1500, 200, 200, 300, 300], "no duplicates inside a split")
        for i in sets.indices { for j in sets.indices where i < j { XCTAssertTrue(sets[i].isDisjoint(with: sets[j]), "splits \(i) and \(j)") } }
        let inside = ArithmeticProblems.inDistribution, outside = ArithmeticProblems.outOfDistribution
        XCTAssertTrue(Set(inside.names).isDisjoint(with: outside.names))
        XCTAssertTrue(Set(inside.things).isDisjoint(with: outside.things))
        // Every OOD sentence (opening, change, question) is new, not just the combination.
        XCTAssertTrue(Set(inside.allOpenings).isDisjoint(with: outside.allOpenings))
        XCTAssertTrue(Set(inside.allChanges.map(\.text)).isDisjoint(with: outside.allChanges.map(\.text)))
        XCTAssertTrue(Set(inside.questions).isDisjoint(with: outside.questions))
        XCTAssertEqual([inside.allOpenings.count, inside.allChanges.count, inside.questions.count], [350, 192, 10],
                       "672,000 training phrasings")
        func words(_ ps: [ArithmeticProblem]) -> Set<String> {
            Set(ps.flatMap { $0.question.split(whereSeparator: { !$0.isLetter }).map(String.init) })
        }
        let seen = words(s.sft + s.train)
        XCTAssertTrue(seen.isDisjoint(with: outside.names + outside.things), "OOD names and objects never appear in SFT or training")
        // The OOD sentences' own words (their verbs, times, places and question words) are unseen too.
        let oodWords = ["Later", "first", "kept", "box", "collected", "week", "wins", "receives", "trades", "breaks",
                        "Count", "hold", "end"]
        XCTAssertTrue(seen.isDisjoint(with: oodWords), "\(seen.intersection(oodWords))")
        // Operands sit at many positions: a sentence may open with a number.
        XCTAssertTrue(s.train.contains { $0.question.first?.isNumber == true || $0.question.contains(". Seven") || $0.question.contains(". 7") })
        XCTAssertGreaterThan(Set(s.train.map { $0.question.split(separator: " ")[0] }).count, 50, "many names in 200 prompts")
        XCTAssertTrue(s.sft.contains { $0.question.contains("seven") || $0.question.contains("three") }, "numbers written in words")
        XCTAssertEqual(Set(s.ood.map(\.op)), ["+", "-"])
        XCTAssertEqual(Set(s.train.map(\.op)), ["+", "-"])
    }

    func testSameSeedSameProblems() {
        XCTAssertEqual(ArithmeticProblems.generate(count: 50, seed: 9), ArithmeticProblems.generate(count: 50, seed: 9))
        XCTAssertNotEqual(ArithmeticProblems.generate(count: 50, seed: 9), ArithmeticProblems.generate(count: 50, seed: 10))
    }
}

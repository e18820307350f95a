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
            XCTAssertTrue(p.question.contains(" \(a) ") && p.question.contains(" \(b)"), "\(p.question) → \(answer)")
        }
        let records = ArithmeticProblems.records(problems, prefix: "t")
        XCTAssertEqual(records.map { $0["reference_answer"]?.stringValue }, problems.map { String($0.answer) })
    }

    func testSameSeedSameProblems() {
        XCTAssertEqual(ArithmeticProblems.generate(count: 50, seed: 9), ArithmeticProblems.generate(count: 50, seed: 9))
        XCTAssertNotEqual(ArithmeticProblems.generate(count: 50, seed: 9), ArithmeticProblems.generate(count: 50, seed: 10))
    }
}

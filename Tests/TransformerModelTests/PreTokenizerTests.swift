import Foundation
import XCTest
@testable import TransformerModel

final class PreTokenizerTests: XCTestCase {
    /// The hand-written matchers split exactly as the regular expressions do, on random text
    /// mixing every character class the patterns distinguish.
    func testKnownPatternsAgreeWithTheRegex() throws {
        let pool: [String] = ["a", "Z", "é", "ǅ", "ʰ", "日", "я", "7", "٣", "Ⅻ", "½", " ", "  ", "\t", "\n", "\r", "\r\n",
                              "\u{0B}", "\u{85}", "\u{A0}", "\u{2028}", "\u{3000}", "\u{200B}", "'", "'s", "'S", "'ll", "'LL",
                              "'re", "'Ve", "'M", "'d", "'ſ", "!", "?.", "-", "$", "🙂", "e\u{301}", "\u{0}", "_", "\"", "x2"]
        var rng = RandomGenerator(seed: 42)
        for (pattern, known) in [(PreTokenizerPattern.gpt2, KnownSplitPattern.gpt2),
                                 (PreTokenizerPattern.llama3, .llama3), (PreTokenizerPattern.qwen2, .qwen2)] {
            let regex = try NSRegularExpression(pattern: pattern)
            XCTAssertEqual(KnownSplitPattern(pattern: pattern), known)
            for _ in 0..<400 {
                let text = (0..<Int(rng.next() % 14)).map { _ in pool[Int(rng.next() % UInt64(pool.count))] }.joined()
                let expected = PreTokenizerStep.split(Substring(text), regex, keepGaps: true).map(String.init)
                let got = known.split(Substring(text)).map(String.init)
                XCTAssertEqual(got.map { Array($0.unicodeScalars) }, expected.map { Array($0.unicodeScalars) },
                               "\(known) on \(text.unicodeScalars.map { String(format: "U+%04X", $0.value) })")
            }
        }
    }
}

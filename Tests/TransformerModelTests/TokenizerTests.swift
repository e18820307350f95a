import Foundation
import XCTest
@testable import TransformerModel

final class ByteTokenizerTests: XCTestCase {
    func testRoundTripsAnyUTF8() {
        let t = ByteTokenizer()
        let text = "Café 🙂\n<|user|> is plain text here"
        let ids = t.encode(text)
        XCTAssertEqual(ids.count, text.utf8.count)
        XCTAssertTrue(ids.allSatisfy { $0 < 256 }, "special markup is not interpreted by default")
        XCTAssertEqual(t.decode(ids), text)
    }

    func testSpecialTokensHaveDocumentedIDs() {
        let t = ByteTokenizer()
        XCTAssertEqual(t.vocabSize, 260)
        XCTAssertEqual(t.vocabSize, ModelConfig.ref1m.vocabSize)
        XCTAssertEqual(t.eosID, 256)
        XCTAssertEqual(t.padID, 259)
        XCTAssertNil(t.bosID)
        XCTAssertEqual(t.specialTokenID("<|user|>"), 257)
        XCTAssertEqual(t.specialTokenID("<|assistant|>"), 258)
        XCTAssertEqual(t.encode("a<|assistant|>b<|endoftext|>", parseSpecial: true), [97, 258, 98, 256])
        XCTAssertEqual(t.decode([104, 105, 256], skipSpecial: true), "hi")
        XCTAssertEqual(t.decode([104, 105, 256]), "hi<|endoftext|>")
    }
}

final class BPETokenizerTests: XCTestCase {
    /// Encodings produced by Hugging Face `tokenizers` for the same texts.
    func testEncodeMatchesHuggingFace() throws {
        let reference = try XCTUnwrap(Fixtures.json("tokenizers/encodings.json") as? [String: [[String: Any]]])
        XCTAssertEqual(Set(reference.keys), ["gpt2", "llama3", "qwen2"])
        for (kind, cases) in reference {
            let tok = try BPETokenizer.load(directory: Fixtures.url("tokenizers/\(kind)"))
            for c in cases {
                let text = try XCTUnwrap(c["text"] as? String)
                let ids = try XCTUnwrap(c["ids"] as? [Int])
                XCTAssertEqual(tok.encode(text, parseSpecial: true), ids, "\(kind): \(text.debugDescription)")
                XCTAssertEqual(tok.decode(ids), c["decoded"] as? String, "\(kind) decode: \(text.debugDescription)")
            }
        }
    }

    func testDecodeRoundTripsBytes() throws {
        for kind in ["gpt2", "llama3", "qwen2"] {
            let tok = try BPETokenizer.load(directory: Fixtures.url("tokenizers/\(kind)"))
            // Qwen2's NFC normalizer changes decomposed text, so use composed text only.
            for text in ["", " ", "\n\n\t x", "mixed 日本語 and emoji 🙂🚀 and 12345678", "<|im_end|>"] {
                XCTAssertEqual(tok.decode(tok.encode(text)), text, "\(kind): \(text.debugDescription)")
            }
            // Every token id decodes to bytes; concatenating them is the decode of the sequence.
            let ids = tok.encode("Straße 🙂")
            XCTAssertEqual(ids.flatMap { tok.decodeBytes([$0], skipSpecial: false) }, Array("Straße 🙂".utf8))
        }
    }

    func testSpecialTokensAndConfig() throws {
        let qwen = try BPETokenizer.load(directory: Fixtures.url("tokenizers/qwen2"))
        XCTAssertEqual(qwen.eosToken, "<|im_end|>")
        XCTAssertEqual(qwen.padToken, "<|endoftext|>")
        XCTAssertNil(qwen.bosID)
        let imEnd = try XCTUnwrap(qwen.specialTokenID("<|im_end|>"))
        XCTAssertEqual(qwen.eosID, imEnd)
        XCTAssertEqual(qwen.encode("<|im_end|>", parseSpecial: true), [imEnd])
        XCTAssertFalse(qwen.encode("<|im_end|>").contains(imEnd), "user text cannot forge a special token")
        XCTAssertEqual(qwen.decode([imEnd], skipSpecial: true), "")

        let llama = try BPETokenizer.load(directory: Fixtures.url("tokenizers/llama3"))
        XCTAssertEqual(llama.bosToken, "<|begin_of_text|>")
        XCTAssertEqual(llama.bosID, llama.specialTokenID("<|begin_of_text|>"))
        XCTAssertEqual(llama.eosID, llama.specialTokenID("<|eot_id|>"))
        XCTAssertEqual(llama.vocabSize, 360)
    }

    func testMalformedTokenizerJSONNamesTheProblem() throws {
        XCTAssertThrowsError(try BPETokenizer(json: Data("[]".utf8), path: "x/tokenizer.json")) { error in
            XCTAssertEqual(error as? ModelIOError, .malformed(path: "x/tokenizer.json", detail: "not a JSON object"))
        }
        let unigram = #"{"model": {"type": "Unigram", "vocab": []}}"#
        XCTAssertThrowsError(try BPETokenizer(json: Data(unigram.utf8))) { error in
            guard case .unsupported(_, let detail)? = error as? ModelIOError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("Unigram"))
        }
        let badMerge = #"{"model": {"type": "BPE", "vocab": {"a": 0, "<|endoftext|>": 1}, "merges": ["a b"]}}"#
        XCTAssertThrowsError(try BPETokenizer(json: Data(badMerge.utf8))) { error in
            XCTAssertTrue("\(error)".contains("merges[0] 'a b'"), "\(error)")
        }
        XCTAssertThrowsError(try BPETokenizer.load(directory: URL(fileURLWithPath: "/nonexistent"))) { error in
            guard case .unreadable(let path, _)? = error as? ModelIOError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "/nonexistent/tokenizer.json")
        }
    }
}

final class BPECacheTests: XCTestCase {
    /// Canonically equivalent but different pieces (Å as U+212B and as U+00C5) are cached apart.
    func testCacheDistinguishesCanonicallyEquivalentPieces() throws {
        let tok = try BPETokenizer.load(directory: Fixtures.url("tokenizers/llama3"))
        let angstrom = tok.encode("\u{212B}"), aRing = tok.encode("\u{C5}")
        XCTAssertNotEqual(angstrom, aRing)
        XCTAssertEqual(tok.encode("\u{212B}"), angstrom)
        XCTAssertEqual(Array(tok.decodeBytes(angstrom, skipSpecial: false)), Array("\u{212B}".utf8))
        XCTAssertEqual(Array(tok.decodeBytes(tok.encode("\u{C5}"), skipSpecial: false)), Array("\u{C5}".utf8))
    }
}

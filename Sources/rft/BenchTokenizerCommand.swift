import ArgumentParser
import Foundation
import JSON
import TransformerModel

/// `rft bench tokenizer`: BPE encode/decode throughput against a baseline from the same run.
struct BenchTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Tokenizer load time and encode/decode throughput (build with -c release).",
        discussion: """
        Encodes every line of --text with the tokenizer.json in --tokenizer, twice (the second pass hits the per-word merge cache), then decodes the ids. The baseline is Hugging Face `tokenizers` (Rust, encode_batch on one thread) run on the same lines by --baseline-python when given, which also checks that both produce the same ids; otherwise the byte tokenizer.

        Example:
          rft bench tokenizer --tokenizer models/Qwen3-0.6B --text corpus.txt --baseline-python .venv/bin/python --json
        """
    )

    @Option(help: "Directory holding tokenizer.json.")
    var tokenizer: String

    @Option(help: "UTF-8 text file; each non-empty line is encoded separately.")
    var text: String

    @Option(help: "A Python with the `tokenizers` package, to run the Hugging Face baseline.")
    var baselinePython: String?

    @Flag(help: "Print the results as JSON.")
    var json = false

    func run() throws {
        let conditions = BenchConditions.now()
        let dir = URL(fileURLWithPath: tokenizer)
        var t = Date()
        let tok = try BPETokenizer.load(directory: dir)
        let loadSeconds = Date().timeIntervalSince(t)
        let lines = try String(contentsOfFile: text, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        let bytes = Double(lines.reduce(0) { $0 + $1.utf8.count })
        func mbps(_ seconds: Double) -> Double { bytes / seconds / 1e6 }

        t = Date()
        var ids = lines.map { tok.encode($0, parseSpecial: true) }
        let cold = mbps(Date().timeIntervalSince(t))
        t = Date()
        ids = lines.map { tok.encode($0, parseSpecial: true) }
        let warm = mbps(Date().timeIntervalSince(t))
        t = Date()
        var decodedBytes = 0
        for row in ids { decodedBytes += tok.decodeBytes(row, skipSpecial: false).count }
        let decode = mbps(Date().timeIntervalSince(t))
        let tokens = ids.reduce(0) { $0 + $1.count }

        var result: JSONObject = ["lines": .number(Double(lines.count)), "bytes": .number(Double(bytes)),
                                  "tokens": .number(Double(tokens)), "vocab_size": .number(Double(tok.vocabSize)),
                                  "load_s": .num(loadSeconds), "encode_cold_mb_per_s": .num(cold), "encode_warm_mb_per_s": .num(warm),
                                  "decode_mb_per_s": .num(decode), "conditions": conditions.json]
        if let python = baselinePython {
            let hf = try huggingFace(python: python, tokenizerFile: dir.appendingPathComponent("tokenizer.json").path)
            result["baseline"] = "huggingface-tokenizers"
            result["baseline_load_s"] = .num(hf.load)
            result["baseline_encode_mb_per_s"] = .num(mbps(hf.encode))
            result["baseline_decode_mb_per_s"] = .num(mbps(hf.decode))
            result["encode_ratio"] = .num(cold / mbps(hf.encode))
            result["decode_ratio"] = .num(decode / mbps(hf.decode))
            result["ids_identical"] = .bool(hf.ids == ids)
        } else {
            let byte = ByteTokenizer()
            t = Date()
            let n = lines.reduce(0) { $0 + byte.encode($1).count }
            result["baseline"] = "byte-tokenizer"
            let byteRate = mbps(Date().timeIntervalSince(t))
            result["baseline_encode_mb_per_s"] = .num(byteRate)
            result["encode_ratio"] = .num(cold / byteRate)
            precondition(n == Int(bytes))
        }
        if json {
            print(JSONValue.object(result).jsonString(sortedKeys: true))
        } else {
            print(conditions.line)
            for (key, value) in result.sorted(by: { $0.key < $1.key }) where key != "conditions" {
                print("\(key): \(value.stringValue ?? value.jsonString)")
            }
        }
    }

    /// Runs Hugging Face `tokenizers` on the same lines: (load s, encode s, decode s, ids).
    private func huggingFace(python: String, tokenizerFile: String) throws -> (load: Double, encode: Double, decode: Double, ids: [[Int]]) {
        let script = """
        import json, os, sys, time
        os.environ["RAYON_NUM_THREADS"] = "1"; os.environ["TOKENIZERS_PARALLELISM"] = "false"
        from tokenizers import Tokenizer
        t = time.perf_counter(); tok = Tokenizer.from_file(sys.argv[1]); load = time.perf_counter() - t
        lines = [l for l in open(sys.argv[2], encoding="utf-8").read().split("\\n") if l]
        t = time.perf_counter(); enc = [e.ids for e in tok.encode_batch(lines, add_special_tokens=False)]; e = time.perf_counter() - t
        t = time.perf_counter(); tok.decode_batch(enc, skip_special_tokens=False); d = time.perf_counter() - t
        json.dump({"load": load, "encode": e, "decode": d, "ids": enc}, sys.stdout)
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script, tokenizerFile, text]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let obj = try? JSONValue.parse(data),
              let load = obj["load"]?.doubleValue, let e = obj["encode"]?.doubleValue, let d = obj["decode"]?.doubleValue,
              let rows = obj["ids"]?.arrayValue?.map({ $0.arrayValue?.compactMap(\.intValue) }), !rows.contains(where: { $0 == nil })
        else {
            throw ValidationError("the baseline (\(python) with the tokenizers package) failed")
        }
        return (load, e, d, rows.map { $0! })
    }
}

import Foundation
import TransformerModel
@testable import GRPOTrainer

/// A tiny policy for trainer tests: one logit table per (prompt, position), tokens are the
/// characters of `alphabet` plus EOS. Real softmax, real gradients, Adam.
final class TabularPolicy: GRPOPolicy {
    let alphabet: [Character]
    var eos: Int { alphabet.count }
    var vocab: Int { alphabet.count + 1 }
    let positions: Int
    var prompts: [String: Int] = [:]
    var logits: [[Float]] = []          // [context][vocab], context = prompt * positions + t
    var grad: [[Float]] = []
    var m: [[Float]] = [], v: [[Float]] = []
    var t = 0
    var frozen = false

    init(alphabet: String = "0123456789", positions: Int = 3) {
        self.alphabet = Array(alphabet); self.positions = positions
    }

    func context(_ prompt: [Int], _ pos: Int) -> Int {
        let key = prompt.map(String.init).joined(separator: ",")
        let p: Int
        if let k = prompts[key] { p = k } else {
            p = prompts.count; prompts[key] = p
            for _ in 0..<positions {
                logits.append([Float](repeating: 0, count: vocab)); grad.append([Float](repeating: 0, count: vocab))
                m.append([Float](repeating: 0, count: vocab)); v.append([Float](repeating: 0, count: vocab))
            }
        }
        return p * positions + min(pos, positions - 1)
    }

    func probs(_ c: Int, temperature: Double = 1) -> [Double] {
        let l = logits[c].map { Double($0) / max(temperature, 1e-6) }
        let mx = l.max()!
        let e = l.map { exp($0 - mx) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    func encodePrompt(_ messages: [ChatMessage]) -> [Int] { messages.last!.content.unicodeScalars.map { Int($0.value) } }
    func decode(_ tokens: [Int]) -> String { String(tokens.filter { $0 < eos }.map { alphabet[$0] }) }

    func sample(prompts: [[Int]], count: Int, settings: SamplingSettings, seed: UInt64) -> [[SampledCompletion]] {
        var rng = TrainerRNG(seed: seed)
        return prompts.map { prompt in (0..<count).map { _ in
            var out: [Int] = []
            while out.count < settings.maxNewTokens {
                let p = probs(context(prompt, out.count), temperature: settings.temperature)
                var tok = 0
                if settings.temperature == 0 { tok = p.indices.max { p[$0] < p[$1] }! } else {
                    var u = rng.uniform(); tok = p.count - 1
                    for (i, x) in p.enumerated() { u -= x; if u < 0 { tok = i; break } }
                }
                out.append(tok)
                if tok == eos { return SampledCompletion(tokens: out, truncated: false) }
            }
            return SampledCompletion(tokens: out, truncated: true)
        } }
    }

    func logProbs(_ batch: [PolicySequence]) -> [[Float]] {
        batch.map { s in s.completion.enumerated().map { pos, tok in Float(log(probs(context(s.prompt, pos))[tok])) } }
    }

    func accumulateGradients(_ batch: [PolicySequence], lossGradient: ([[Float]]) -> [[Float]]) -> GradientPass {
        let lp = logProbs(batch)
        let d = lossGradient(lp)
        var ent = 0.0, n = 0
        for (i, s) in batch.enumerated() {
            for (pos, tok) in s.completion.enumerated() {
                let c = context(s.prompt, pos)
                let p = probs(c)
                ent -= p.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }; n += 1
                for k in 0..<vocab { grad[c][k] += d[i][pos] * Float((k == tok ? 1 : 0) - p[k]) }
            }
        }
        return GradientPass(logp: lp, entropy: n > 0 ? ent / Double(n) : 0)
    }

    func applyGradients(learningRate lr: Double) -> Double {
        precondition(!frozen)
        t += 1
        var norm = 0.0
        for c in grad.indices { for k in 0..<vocab { norm += Double(grad[c][k] * grad[c][k]) } }
        for c in grad.indices {
            for k in 0..<vocab {
                let g = grad[c][k]
                m[c][k] = 0.9 * m[c][k] + 0.1 * g
                v[c][k] = 0.999 * v[c][k] + 0.001 * g * g
                let mh = m[c][k] / (1 - pow(0.9, Float(t))), vh = v[c][k] / (1 - pow(0.999, Float(t)))
                logits[c][k] -= Float(lr) * mh / (vh.squareRoot() + 1e-8)
                grad[c][k] = 0
            }
        }
        return norm.squareRoot()
    }

    func frozenCopy() -> GRPOPolicy {
        let c = TabularPolicy(alphabet: String(alphabet), positions: positions)
        c.prompts = prompts; c.logits = logits; c.grad = grad; c.m = m; c.v = v; c.frozen = true
        return c
    }

    struct Saved: Codable { var prompts: [String: Int]; var logits: [[Float]]; var m: [[Float]]; var v: [[Float]]; var t: Int }

    func save(to directory: URL) throws {
        try JSONEncoder().encode(Saved(prompts: prompts, logits: logits, m: m, v: v, t: t))
            .write(to: directory.appendingPathComponent("tabular.json"))
    }

    func restore(from directory: URL) throws {
        let s = try JSONDecoder().decode(Saved.self, from: Data(contentsOf: directory.appendingPathComponent("tabular.json")))
        prompts = s.prompts; logits = s.logits; m = s.m; v = s.v; t = s.t
        grad = logits.map { [Float](repeating: 0, count: $0.count) }
    }
}

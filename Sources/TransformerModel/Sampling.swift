import Foundation

/// Decoding controls for `Transformer.sample`.
public struct SamplingOptions: Sendable {
    /// New tokens per completion at most (also bounded by `max_seq_len`).
    public var maxNewTokens: Int
    /// Softmax temperature; 0 samples greedily (argmax).
    public var temperature: Float
    /// Keep only the `topK` most likely tokens (0: no limit).
    public var topK: Int
    /// Nucleus sampling: keep the smallest set of most likely tokens whose mass reaches `topP` (1: off).
    public var topP: Float
    /// A completion ends after emitting one of these (the token is kept in the completion).
    public var eosTokenIDs: Set<Int>
    /// A completion ends once `decode(completion)` contains one of these.
    public var stopStrings: [String]
    /// Token ids → text, needed for `stopStrings` (the tokenizer lives outside this module).
    public var decode: (@Sendable ([Int]) -> String)?

    public init(maxNewTokens: Int = 64, temperature: Float = 1, topK: Int = 0, topP: Float = 1,
                eosTokenIDs: Set<Int> = [], stopStrings: [String] = [],
                decode: (@Sendable ([Int]) -> String)? = nil) {
        self.maxNewTokens = maxNewTokens; self.temperature = temperature; self.topK = topK; self.topP = topP
        self.eosTokenIDs = eosTokenIDs; self.stopStrings = stopStrings; self.decode = decode
    }
}

/// Why a completion ended.
public enum FinishReason: String, Codable, Sendable {
    /// Emitted an EOS token (kept as the last token).
    case eos
    /// Its decoded text contains a stop string (the token that completed it is kept).
    case stop
    /// Reached `maxNewTokens` or `max_seq_len`.
    case length
}

/// One sampled continuation of a prompt.
public struct Completion: Equatable, Sendable {
    public var tokens: [Int]
    public var finishReason: FinishReason
    /// `log p(token | prefix)` of each token under the model itself (temperature 1, before top-k
    /// and top-p), from the sampling pass; matches `tokenLogProbs` to about 1e-5.
    public var logProbs: [Float]

    public init(tokens: [Int], finishReason: FinishReason, logProbs: [Float] = []) {
        self.tokens = tokens; self.finishReason = finishReason; self.logProbs = logProbs
    }
}

extension Transformer {
    /// Samples `completionsPerPrompt` continuations of each prompt, decoding all of them together
    /// as one batch over a KV cache. Each prompt is prefilled once; its G completions read that
    /// one prompt cache and keep only their own new tokens. Deterministic for a given `rng` state.
    ///
    ///     var rng = RandomGenerator(seed: 1)
    ///     let out = try model.sample(prompts: [[1, 2, 3]], completionsPerPrompt: 8,
    ///                                options: SamplingOptions(maxNewTokens: 32, eosTokenIDs: [0]), rng: &rng)
    ///     out[0][3].tokens   // the 4th completion of prompt 0
    ///
    /// `weights`, when given, is the packed copy of this model's decode matrices to use instead of
    /// packing them again for this call (`DecodeWeights`): it must have been made since the
    /// parameters last changed.
    ///
    /// - Returns: `[prompt][completion]`.
    public func sample(prompts: [[Int]], completionsPerPrompt G: Int = 1, options: SamplingOptions,
                       rng: inout RandomGenerator, weights: DecodeWeights? = nil) throws -> [[Completion]] {
        let c = config, V = c.vocabSize
        guard G >= 1 else { throw ModelError.invalidSampling("completionsPerPrompt must be at least 1") }
        guard options.maxNewTokens >= 0 else { throw ModelError.invalidSampling("maxNewTokens must be ≥ 0") }
        guard options.temperature >= 0, options.topK >= 0, options.topP > 0, options.topP <= 1 else {
            throw ModelError.invalidSampling("temperature ≥ 0, topK ≥ 0 and 0 < topP ≤ 1 are required")
        }
        guard options.stopStrings.isEmpty || options.decode != nil else {
            throw ModelError.invalidSampling("stopStrings need a decode function")
        }
        for (i, prompt) in prompts.enumerated() {
            guard !prompt.isEmpty else { throw ModelError.emptySequence(sequence: i) }
            guard prompt.count < c.maxSeqLen else {
                throw ModelError.sequenceTooLong(sequence: i, length: prompt.count, maxSeqLen: c.maxSeqLen)
            }
            if let (t, tok) = prompt.enumerated().first(where: { $0.element < 0 || $0.element >= V }) {
                throw ModelError.tokenOutOfRange(sequence: i, position: t, token: tok, vocabSize: V)
            }
        }
        var results = prompts.map { _ in [Completion](repeating: Completion(tokens: [], finishReason: .length), count: G) }
        if prompts.isEmpty || options.maxNewTokens == 0 { return results }

        let P = prompts.count, slots = P * G
        let longest = prompts.map(\.count).max()!
        let newTokens = min(options.maxNewTokens, c.maxSeqLen - prompts.map(\.count).min()!)
        // Prompt caches (one per prompt, shared by its G completions) and completion caches.
        let promptCache = KVCache(config: c, slots: P, capacity: longest)
        let cache = KVCache(config: c, slots: slots, capacity: newTokens)
        let pool = DecodeScratchPool(config: c, capacity: longest + newTokens, packed: weights?.packed(for: self) ?? PackedWeights(self))
        // One uniform per draw, taken in row order before each parallel step (none when greedy).
        let greedy = options.temperature == 0 || options.topK == 1
        func uniforms(_ n: Int) -> [Float] { greedy ? [Float](repeating: 0, count: n) : (0..<n).map { _ in rng.nextFloat() } }

        // Sequence state per slot.
        var generated = [[Int]](repeating: [], count: slots)
        var logProbs = [[Float]](repeating: [], count: slots)
        var active: [Int] = []
        let budget = prompts.map { min(options.maxNewTokens, c.maxSeqLen - $0.count) }
        func append(_ tok: Int, slot: Int, logp: Float) {
            let p = slot / G
            generated[slot].append(tok)
            logProbs[slot].append(logp)
            var reason: FinishReason?
            if options.eosTokenIDs.contains(tok) {
                reason = .eos
            } else if let decode = options.decode, !options.stopStrings.isEmpty {
                let text = decode(generated[slot])
                if options.stopStrings.contains(where: { text.contains($0) }) { reason = .stop }
            }
            if reason == nil && generated[slot].count >= budget[p] { reason = .length }
            if let reason {
                results[p][slot % G] = Completion(tokens: generated[slot], finishReason: reason, logProbs: logProbs[slot])
            } else {
                active.append(slot)
            }
        }
        // Draws: `picked[i]` = (token, log p) of draw i, written by the thread of its row.
        var picked = [(Int, Float)](repeating: (0, 0), count: slots)

        // Prefill every prompt (prompt p in prompt slot p), logits at each prompt's last token;
        // its G completions draw their first tokens from those logits.
        let units = prompts.enumerated().map { p, prompt in
            prompt.enumerated().map { DecodeRow(token: Int32($1), slot: Int32(p), position: Int32($0)) }
        }
        var u = uniforms(slots)
        picked.withUnsafeMutableBufferPointer { out in
            parallelCachedStep(units: units, cache: promptCache, prefixCache: nil, pool: pool) { p, logits, probs in
                for g in 0..<G {
                    let tok = sampleToken(logits, probs: probs, options: options, uniform: u[p * G + g])
                    out[p * G + g] = (tok, logSoftmaxRow(logits, V: V, target: tok).logp)
                }
            }
        }
        for slot in 0..<slots { append(picked[slot].0, slot: slot, logp: picked[slot].1) }
        // Decode all unfinished sequences together, one token each per step.
        while !active.isEmpty {
            let rows = active
            active.removeAll(keepingCapacity: true)
            let units = rows.map { slot in
                [DecodeRow(token: Int32(generated[slot].last!), slot: Int32(slot),
                           position: Int32(prompts[slot / G].count + generated[slot].count - 1),
                           prefixSlot: Int32(slot / G), prefixLength: Int32(prompts[slot / G].count))]
            }
            u = uniforms(rows.count)
            picked.withUnsafeMutableBufferPointer { out in
                parallelCachedStep(units: units, cache: cache, prefixCache: promptCache, pool: pool) { i, logits, probs in
                    let tok = sampleToken(logits, probs: probs, options: options, uniform: u[i])
                    out[i] = (tok, logSoftmaxRow(logits, V: V, target: tok).logp)
                }
            }
            for (i, slot) in rows.enumerated() { append(picked[i].0, slot: slot, logp: picked[i].1) }
        }
        return results
    }

    /// Draws one token from `logits [V]` (left unchanged) under temperature, top-k and top-p,
    /// with `uniform` in [0, 1) (unused when greedy). `probs [V]` is scratch.
    func sampleToken(_ logits: ConstFloatPtr, probs: FloatPtr, options: SamplingOptions, uniform: Float) -> Int {
        let V = config.vocabSize
        var best = 0
        for v in 1..<V where logits[v] > logits[best] { best = v }
        if options.temperature == 0 || options.topK == 1 { return best }
        let invT = 1 / options.temperature, mx = logits[best]
        map8(probs, logits, V) { fastExp(($0 - F8(repeating: mx)) * F8(repeating: invT)) }
        var sum: Float = 0
        for v in 0..<V { sum += probs[v] }
        if (options.topK == 0 || options.topK >= V) && options.topP >= 1 {
            var u = uniform * sum
            for v in 0..<V {
                u -= probs[v]
                if u < 0 { return v }
            }
            return best
        }
        // Restrict to the top-k, then to the nucleus, in descending probability. Only tokens at or
        // above a cut-off probability are sorted, so a 150k vocabulary costs a few linear passes.
        let k = options.topK > 0 && options.topK < V ? options.topK : V
        var cut: Float = 0
        if k < V { cut = kthLargest(probs, V, k) }
        if options.topP < 1 {
            // Raise the cut while the tokens above it still hold topP of the (top-k) mass.
            var kept: Float = 0
            for v in 0..<V where probs[v] >= cut { kept += probs[v] }
            let target = options.topP * kept
            var lo = cut, hi = probs[best]
            for _ in 0..<24 {
                let mid = (lo + hi) / 2
                var m: Float = 0
                for v in 0..<V where probs[v] >= mid { m += probs[v] }
                if m >= target { lo = mid } else { hi = mid }
            }
            cut = lo
        }
        var order = (0..<V).filter { probs[$0] >= cut }
        order.sort { probs[$0] > probs[$1] }
        if order.count > k { order.removeLast(order.count - k) }
        let total = order.reduce(Float(0)) { $0 + probs[$1] }
        let target = options.topP * total
        var kept = 0, mass: Float = 0
        for v in order {
            mass += probs[v]; kept += 1
            if mass >= target { break }
        }
        var u = uniform * mass
        for v in order.prefix(kept) {
            u -= probs[v]
            if u < 0 { return v }
        }
        return order[0]
    }
}

/// The k-th largest of `x[0..<n]` (1-based `k`), by quickselect on a copy.
func kthLargest(_ x: ConstFloatPtr, _ n: Int, _ k: Int) -> Float {
    var a = Array(UnsafeBufferPointer(start: x, count: n))
    var lo = 0, hi = n - 1, target = k - 1   // index in descending order
    while lo < hi {
        let pivot = a[(lo + hi) / 2]
        var i = lo, j = hi
        while i <= j {
            while a[i] > pivot { i += 1 }
            while a[j] < pivot { j -= 1 }
            if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
        }
        if target <= j { hi = j } else if target >= i { lo = i } else { return a[target] }
    }
    return a[target]
}

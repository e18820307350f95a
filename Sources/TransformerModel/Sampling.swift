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
    /// - Returns: `[prompt][completion]`.
    public func sample(prompts: [[Int]], completionsPerPrompt G: Int = 1, options: SamplingOptions,
                       rng: inout RandomGenerator) throws -> [[Completion]] {
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
        let promptRows = prompts.reduce(0) { $0 + $1.count }
        let scratch = DecodeScratch(config: c, rows: max(promptRows, slots), logitRows: max(P, slots),
                                    capacity: longest + newTokens)

        // Prefill every prompt in one step (prompt p in prompt slot p), logits at each prompt's last token.
        var tokens: [Int32] = [], slotOf: [Int32] = [], positions: [Int32] = [], lastRows: [Int] = []
        for (p, prompt) in prompts.enumerated() {
            for (t, tok) in prompt.enumerated() {
                tokens.append(Int32(tok)); slotOf.append(Int32(p)); positions.append(Int32(t))
            }
            lastRows.append(tokens.count - 1)
        }
        cachedStep(tokens: tokens, slots: slotOf, positions: positions, logitRows: lastRows,
                   cache: promptCache, s: scratch)

        // Sequence state per slot.
        var generated = [[Int]](repeating: [], count: slots)
        var active: [Int] = []
        let budget = prompts.map { min(options.maxNewTokens, c.maxSeqLen - $0.count) }
        func append(_ tok: Int, slot: Int) {
            let p = slot / G
            generated[slot].append(tok)
            var reason: FinishReason?
            if options.eosTokenIDs.contains(tok) {
                reason = .eos
            } else if let decode = options.decode, !options.stopStrings.isEmpty {
                let text = decode(generated[slot])
                if options.stopStrings.contains(where: { text.contains($0) }) { reason = .stop }
            }
            if reason == nil && generated[slot].count >= budget[p] { reason = .length }
            if let reason {
                results[p][slot % G] = Completion(tokens: generated[slot], finishReason: reason)
            } else {
                active.append(slot)
            }
        }
        for p in 0..<P {
            for g in 0..<G {
                let tok = sampleToken(scratch.logits + p * V, probs: scratch.probs, options: options, rng: &rng)
                append(tok, slot: p * G + g)
            }
        }
        // Decode all unfinished sequences together, one token each per step.
        while !active.isEmpty {
            let rows = active
            active.removeAll(keepingCapacity: true)
            tokens = rows.map { Int32(generated[$0].last!) }
            slotOf = rows.map { Int32($0) }
            positions = rows.map { Int32(prompts[$0 / G].count + generated[$0].count - 1) }
            let prefix = CachePrefix(cache: promptCache, slots: rows.map { Int32($0 / G) },
                                     lengths: rows.map { Int32(prompts[$0 / G].count) })
            cachedStep(tokens: tokens, slots: slotOf, positions: positions, logitRows: Array(rows.indices),
                       cache: cache, prefix: prefix, s: scratch)
            for (i, slot) in rows.enumerated() {
                let tok = sampleToken(scratch.logits + i * V, probs: scratch.probs, options: options, rng: &rng)
                append(tok, slot: slot)
            }
        }
        return results
    }

    /// Draws one token from `logits [V]` (left unchanged) under temperature, top-k and top-p.
    /// `probs [V]` is scratch.
    func sampleToken(_ logits: ConstFloatPtr, probs: FloatPtr, options: SamplingOptions,
                     rng: inout RandomGenerator) -> Int {
        let V = config.vocabSize
        var best = 0
        for v in 1..<V where logits[v] > logits[best] { best = v }
        if options.temperature == 0 || options.topK == 1 { return best }
        let invT = 1 / options.temperature, mx = logits[best]
        map8(probs, logits, V) { fastExp(($0 - F8(repeating: mx)) * F8(repeating: invT)) }
        var sum: Float = 0
        for v in 0..<V { sum += probs[v] }
        if (options.topK == 0 || options.topK >= V) && options.topP >= 1 {
            var u = rng.nextFloat() * sum
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
        var u = rng.nextFloat() * mass
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

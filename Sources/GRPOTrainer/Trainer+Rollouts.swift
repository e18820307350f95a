import Foundation
import GraderRuntime
import TransformerModel

/// One prompt's group of sampled completions and their sample ids (`<prompt>#<step>.<group>.<k>`).
struct RolloutGroup {
    var record: PromptRecord
    var prompt: [Int]
    var completions: [SampledCompletion]
    var texts: [String]
    var ids: [String]
}

/// What one step sampled and how it was graded.
struct Rollouts {
    /// Every group sampled this step (dynamic sampling may sample more than a batch).
    var groups: [RolloutGroup] = []
    /// Grading outcomes by sample id.
    var outcomes: [String: RewardOutcome] = [:]
    /// Indices into `groups` of the training batch.
    var kept: [Int] = []
    var latenciesMs: [Double] = []
    var sampledTokens = 0
    var samplingSeconds = 0.0
    /// Time spent waiting for graders once sampling was done.
    var gradingWaitSeconds = 0.0

    var batch: [RolloutGroup] { kept.map { groups[$0] } }
    var promptTokens: Int { groups.reduce(0) { $0 + $1.prompt.count * $1.completions.count } }
}

extension Trainer {
    /// Samples `batch_size` groups of `num_generations` completions and grades them, a chunk at a
    /// time: graders score one chunk while the next samples. With dynamic sampling, groups whose
    /// rewards are all equal are dropped and more are sampled, for at most
    /// `dynamic_sampling_max_rounds` extra rounds.
    /// - Throws: `TrainerError.graderFailed` when a grader with `on_error: fail` fails.
    func collectRollouts(step: Int) throws -> Rollouts {
        let started = now()
        let settings = SamplingSettings(temperature: hyperparameters.temperature, topP: hyperparameters.topP,
                                        topK: hyperparameters.topK, maxNewTokens: hyperparameters.maxCompletionLength)
        let queue = GradingQueue(scorer: scorer)
        var r = Rollouts()
        var need = hyperparameters.batchSize, rounds = 0
        while true {
            let sampling = now()
            var left = need
            while left > 0 {
                let n = min(left, hyperparameters.samplingChunk)
                left -= n
                let records = (0..<n).map { _ in nextRecord() }
                let prompts = records.map(promptTokens)
                let sampled = try policy.sample(prompts: prompts, count: hyperparameters.numGenerations, settings: settings,
                                                seed: state.rng.next())
                var requests: [GradingRequest] = []
                for (j, record) in records.enumerated() {
                    let comps = sampled[j], gi = r.groups.count
                    let texts = comps.map { policy.decode($0.tokens) }
                    let ids = (0..<comps.count).map { "\(record.id)#\(step).\(gi).\($0)" }
                    r.sampledTokens += comps.reduce(0) { $0 + $1.tokens.count }
                    requests += zip(ids, texts).map { GradingRequest(id: $0, record: record, completion: $1) }
                    r.groups.append(RolloutGroup(record: record, prompt: prompts[j], completions: comps, texts: texts, ids: ids))
                }
                // Graders score this chunk on the other core while the next chunk samples.
                queue.submit(requests)
            }
            r.samplingSeconds += now() - sampling
            let c = queue.collect()
            if let bad = c.outcomes.values.first(where: \.fatal) {
                throw TrainerError.graderFailed(sampleID: bad.id, error: bad.error ?? GraderError(.crash, "unknown"))
            }
            r.outcomes.merge(c.outcomes) { a, _ in a }
            r.latenciesMs += c.latenciesMs
            guard hyperparameters.dynamicSampling else { r.kept = Array(r.groups.indices); break }
            r.kept = r.groups.indices.filter { !Advantages.hasZeroStd(rewards(of: r.groups[$0], r.outcomes)[...]) }
            rounds += 1
            if r.kept.count >= hyperparameters.batchSize || rounds > hyperparameters.dynamicSamplingMaxRounds {
                r.kept = Array(r.kept.prefix(hyperparameters.batchSize))
                break
            }
            need = hyperparameters.batchSize - r.kept.count
        }
        r.gradingWaitSeconds = now() - started - r.samplingSeconds
        return r
    }

    /// The next training prompt: each epoch walks a seeded permutation of the prompts.
    func nextRecord() -> PromptRecord {
        if state.position >= train.count { state.epoch += 1; state.position = 0 }
        let order = orders[state.epoch] ?? {
            var r = TrainerRNG(seed: UInt64(hyperparameters.seed) &+ UInt64(state.epoch) &* 1_000_003)
            let p = r.permutation(train.count)
            orders = [state.epoch: p]
            return p
        }()
        state.position += 1
        return train[order[state.position - 1]]
    }

    /// The prompt's tokens, keeping the last `max_prompt_length`.
    func promptTokens(_ r: PromptRecord) -> [Int] {
        let t = policy.encodePrompt(r.messages)
        return t.count > hyperparameters.maxPromptLength ? Array(t.suffix(hyperparameters.maxPromptLength)) : t
    }

    /// Rewards of a group's completions: the graded score plus overlong shaping; nil for
    /// failed or abstained samples (left out of every statistic).
    func rewards(of g: RolloutGroup, _ outcomes: [String: RewardOutcome]) -> [Double?] {
        g.ids.map { id in
            guard let r = outcomes[id]?.reward, r.isFinite else { return nil }
            return r + (overlong(g, id) ?? 0)
        }
    }

    /// The overlong-shaping reward of sample `id` (nil when shaping is off).
    func overlong(_ g: RolloutGroup, _ id: String) -> Double? {
        guard let o = hyperparameters.overlongShaping, let k = g.ids.firstIndex(of: id) else { return nil }
        return o.reward(length: g.completions[k].tokens.count)
    }
}

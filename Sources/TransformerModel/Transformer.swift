import Foundation

/// A decoder-only transformer in the Llama / Qwen2 / Qwen3 family, fp32 on BLAS.
///
/// All parameters live in one contiguous buffer laid out by `ParameterLayout` (Hugging Face
/// tensor names, linear weights `[out, in]`), and all gradients in a second buffer of the same
/// layout. Every layer has a plain forward and backward (see the kernel files); this type
/// strings them together, llm.c style:
///
///     x = embed(tokens)
///     for each layer:  h = x + o_proj(attention(rope(qk_norm(qkv_proj(rmsnorm(x))))))
///                      x = h + down_proj(silu(gate_proj(rmsnorm(h))) ⊙ up_proj(rmsnorm(h)))
///     logits = lm_head(rmsnorm(x))
///
/// The object holds the activations of its latest forward pass, which `backward` uses;
/// it is not safe to use from two threads at once.
public final class Transformer {
    public let config: ModelConfig
    public let layout: ParameterLayout
    /// Every parameter, laid out by `layout`. Write into it to load weights.
    public let parameters: UnsafeMutableBufferPointer<Float>
    /// Gradients, same layout; backward passes accumulate into it until `zeroGrad()`.
    public let gradients: UnsafeMutableBufferPointer<Float>

    let rope: RoPETable
    let layers: [LayerOffsets]
    let embedOffset: Int, finalNormOffset: Int, headOffset: Int
    /// Buffers of each thread's part of a batch (`ThreadedPasses.swift`); part 0 accumulates
    /// straight into `gradients`.
    var parts: [ThreadPart] = []
    /// The batch whose activations are held (for `backward`), split into its thread parts.
    var forwardBatch: (batch: TokenBatch, split: BatchSplit)?

    /// Threads the passes of this model use (sampling, log-probs, forward and backward):
    /// `ModelThreads.defaultCount` at creation. Results for a given thread count are
    /// deterministic; different counts agree to float rounding (docs/TRAINING.md, "Threads").
    public var threads: Int = ModelThreads.defaultCount {
        didSet { threads = max(1, threads) }
    }

    // Dimensions used everywhere.
    var dim: Int { config.dim }
    var qDim: Int { config.nHeads * config.headDim }
    var kvDim: Int { config.nKVHeads * config.headDim }
    var qkvDim: Int { qDim + 2 * kvDim }
    var qkDim: Int { qDim + kvDim }

    /// A model with zeroed parameters (load weights into `parameters`).
    /// The config must pass `ModelConfig.validate()` (call it first on untrusted configs).
    public init(config: ModelConfig) {
        _ = blasSingleThreaded
        do { try config.validate() } catch { preconditionFailure("\(error)") }
        self.config = config
        let layout = ParameterLayout(config)
        self.layout = layout
        parameters = UnsafeMutableBufferPointer(start: allocateFloats(layout.totalCount), count: layout.totalCount)
        gradients = UnsafeMutableBufferPointer(start: allocateFloats(layout.totalCount), count: layout.totalCount)
        rope = RoPETable(headDim: config.headDim, maxSeqLen: config.maxSeqLen, theta: config.ropeTheta)
        layers = (0..<config.nLayers).map { LayerOffsets(layout: layout, layer: $0) }
        embedOffset = layout["model.embed_tokens.weight"]!.offset
        finalNormOffset = layout["model.norm.weight"]!.offset
        headOffset = config.tiedEmbeddings ? embedOffset : layout["lm_head.weight"]!.offset
    }

    /// A randomly initialised model (GPT-2 / llm.c style): weights ~ N(0, 0.02), the residual
    /// projections (`o_proj`, `down_proj`) scaled by 1/√(2·nLayers), norm weights 1, biases 0.
    public convenience init(config: ModelConfig, seed: UInt64) {
        self.init(config: config)
        var rng = RandomGenerator(seed: seed)
        let residualScale = 1 / Float(2 * config.nLayers).squareRoot()
        for t in layout.tensors {
            let p = parameters.baseAddress! + t.offset
            if t.name.hasSuffix("norm.weight") {
                for i in 0..<t.count { p[i] = 1 }
            } else if t.name.hasSuffix(".bias") {
                continue
            } else {
                let std: Float = t.name.hasSuffix("o_proj.weight") || t.name.hasSuffix("down_proj.weight")
                    ? 0.02 * residualScale : 0.02
                for i in 0..<t.count { p[i] = std * rng.nextGaussian() }
            }
        }
    }

    deinit {
        free(parameters.baseAddress!)
        free(gradients.baseAddress!)
    }

    /// Number of parameters.
    public var parameterCount: Int { layout.totalCount }

    /// The parameters of the tensor called `name` (Hugging Face naming), or nil.
    public func parameter(_ name: String) -> UnsafeMutableBufferPointer<Float>? {
        layout[name].map { UnsafeMutableBufferPointer(rebasing: parameters[$0.offset..<($0.offset + $0.count)]) }
    }

    /// The gradient of the tensor called `name`, or nil.
    public func gradient(_ name: String) -> UnsafeMutableBufferPointer<Float>? {
        layout[name].map { UnsafeMutableBufferPointer(rebasing: gradients[$0.offset..<($0.offset + $0.count)]) }
    }

    /// Copies all parameters from `values` (e.g. a checkpoint), which must match `parameterCount`.
    public func loadParameters(_ values: [Float]) throws {
        guard values.count == layout.totalCount else {
            throw ModelError.parameterCountMismatch(expected: layout.totalCount, got: values.count)
        }
        _ = parameters.update(fromContentsOf: values)
    }

    /// Copies the parameters from another model of the same config (e.g. policy → reference).
    public func copyParameters(from other: Transformer) {
        precondition(other.config == config, "copyParameters needs models of the same config")
        parameters.baseAddress!.update(from: other.parameters.baseAddress!, count: layout.totalCount)
    }

    /// Sets every gradient to zero.
    public func zeroGrad() {
        memset(gradients.baseAddress!, 0, layout.totalCount * MemoryLayout<Float>.stride)
    }

    /// Releases the activation memory (and per-thread gradient buffers) held since the last forward pass.
    public func releaseActivations() {
        parts = []
        forwardBatch = nil
    }
}

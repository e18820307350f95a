import Foundation
import GraderRuntime
import JSON
import TransformerModel

/// Where the policy starts from.
public enum ModelSource: Equatable, Sendable {
    /// An rft or Hugging Face checkpoint directory.
    case checkpoint(path: String)
    /// A fresh random model of this shape (byte tokenizer).
    case scratch(ModelConfig)
}

/// Where rewards come from.
public enum RewardsSource: Equatable, Sendable {
    /// A reward spec file (graders and weights) run locally in the sandbox.
    case spec(path: String)
    /// A grader served by `rft serve-rewards` on another machine.
    case remote(url: String, grader: String, apiKeyEnv: String?)
}

/// A complete `rft train` config: data, model, rewards, output directory and hyperparameters.
///
/// ```json
/// {
///   "data": {"train": "train.jsonl", "validation": "val.jsonl"},
///   "model": {"checkpoint": "runs/sft/checkpoint"},
///   "rewards": {"spec": "rewards.json"},
///   "output_dir": "runs/math-grpo",
///   "hyperparameters": {"batch_size": 8, "num_generations": 8, "learning_rate": 1e-5}
/// }
/// ```
/// Relative paths are resolved against the config file's directory. `data.test` names held-out
/// splits that are evaluated only before and after training, never to choose a checkpoint: one
/// path (the split is called `test`) or an object of split name to path (`{"test": …, "ood": …}`).
public struct TrainConfig: Equatable, Sendable {
    public var trainData: String
    public var validationData: String?
    /// Held-out test splits (name → JSONL path), in the order given.
    public var testData: [TestSplitPath] = []
    public var model: ModelSource
    public var rewards: RewardsSource
    public var outputDir: String
    public var hyperparameters: Hyperparameters

    public init(trainData: String, validationData: String?, model: ModelSource, rewards: RewardsSource,
                outputDir: String, hyperparameters: Hyperparameters = Hyperparameters()) {
        self.trainData = trainData; self.validationData = validationData; self.model = model
        self.rewards = rewards; self.outputDir = outputDir; self.hyperparameters = hyperparameters
    }

    /// Loads a JSON or YAML config file and applies `key=value` overrides
    /// (a bare hyperparameter name, or a dotted path such as `data.train`).
    public static func load(path: String, overrides: [String] = []) throws -> TrainConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError.unreadable(path: path, reason: "no such file")
        }
        let text = String(decoding: data, as: UTF8.self)
        var json: JSONValue
        do {
            if path.hasSuffix(".yaml") || path.hasSuffix(".yml") { json = try MiniYAML.parse(text) }
            else { json = try JSONValue.parse(text) }
        } catch {
            throw ConfigError.unreadable(path: path, reason: "\(error)")
        }
        for o in overrides { json = try apply(override: o, to: json) }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(json, baseDirectory: base)
    }

    /// Parses a config tree; relative paths are resolved against `baseDirectory`.
    public static func parse(_ json: JSONValue, baseDirectory: String = ".") throws -> TrainConfig {
        func resolve(_ p: String) -> String {
            if p.hasPrefix("/") || p.hasPrefix("http://") || p.hasPrefix("https://") { return p }
            return URL(fileURLWithPath: baseDirectory).appendingPathComponent(p).standardized.path
        }
        // Every unknown key (typos, usually) is reported at once, before any other check.
        let unknown = schema.unknownFields(in: json)
        if !unknown.isEmpty { throw ConfigError.unknownFields(unknown) }
        var r = try FieldReader(json, path: "")
        guard let dataJSON = r.raw("data") else {
            throw ConfigError.missing(field: "data", hint: #"{"train": "train.jsonl", "validation": "val.jsonl"}"#)
        }
        var d = try FieldReader(dataJSON, path: "data")
        guard let train = try d.string("train") else {
            throw ConfigError.missing(field: "data.train", hint: "a JSONL file of prompts in Bedrock format")
        }
        let val = try d.string("validation")
        var tests: [TestSplitPath] = []
        if let t = d.raw("test") {
            if let path = t.stringValue { tests = [TestSplitPath(name: "test", path: resolve(path))] }
            else if let o = t.objectValue {
                for name in o.keys {
                    guard name.first.map({ $0.isLowercase }) == true,
                          name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }) else {
                        throw ConfigError.outOfRange(field: "data.test.\(name)", value: "\"\(name)\"",
                                                     allowed: "a split name in lowercase letters, digits and _ (it names summary.json keys)")
                    }
                    guard let path = o[name]?.stringValue else {
                        throw ConfigError.wrongType(field: "data.test.\(name)", expected: "a JSONL path", got: o[name]?.typeName ?? "null")
                    }
                    tests.append(TestSplitPath(name: name, path: resolve(path)))
                }
            } else {
                throw ConfigError.wrongType(field: "data.test", expected: #"a JSONL path or {"name": path}"#, got: t.typeName)
            }
        }
        try d.finish()

        guard let modelJSON = r.raw("model") else {
            throw ConfigError.missing(field: "model", hint: #"{"checkpoint": DIR} or {"config": {...}} or {"preset": "ref-1m"}"#)
        }
        var m = try FieldReader(modelJSON, path: "model")
        let model: ModelSource
        if let ckpt = try m.string("checkpoint") {
            model = .checkpoint(path: resolve(ckpt))
        } else if let cfg = m.raw("config") {
            do { model = .scratch(try JSONDecoder().decode(ModelConfig.self, from: Data(cfg.jsonString(sortedKeys: true).utf8))) }
            catch { throw ConfigError.wrongType(field: "model.config", expected: "a model config (vocab_size, dim, n_layers, n_heads, ffn_dim, max_seq_len)", got: "\(error)") }
        } else if let preset = try m.string("preset") {
            guard let p = ModelConfig.preset(named: preset) else {
                throw ConfigError.outOfRange(field: "model.preset", value: "\"\(preset)\"",
                                             allowed: ModelConfig.presets.map { "\"\($0.name)\"" }.joined(separator: " | "))
            }
            model = .scratch(p.config)
        } else {
            throw ConfigError.missing(field: "model.checkpoint", hint: "name a checkpoint directory, or give model.config / model.preset")
        }
        try m.finish()

        guard let rewardsJSON = r.raw("rewards") else {
            throw ConfigError.missing(field: "rewards", hint: #"{"spec": "rewards.json"} or {"url": "http://host:8080", "grader": "math"}"#)
        }
        let rewards: RewardsSource
        if let s = rewardsJSON.stringValue {
            rewards = .spec(path: resolve(s))
        } else {
            var rr = try FieldReader(rewardsJSON, path: "rewards")
            if let spec = try rr.string("spec") { rewards = .spec(path: resolve(spec)) }
            else if let url = try rr.string("url") {
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    throw ConfigError.outOfRange(field: "rewards.url", value: url, allowed: "an http:// or https:// URL")
                }
                guard let grader = try rr.string("grader") else {
                    throw ConfigError.missing(field: "rewards.grader", hint: "the grader (or reward spec) name on the reward server")
                }
                rewards = .remote(url: url, grader: grader, apiKeyEnv: try rr.string("api_key_env"))
            } else {
                throw ConfigError.missing(field: "rewards.spec", hint: "a reward spec file or grader directory, or rewards.url + rewards.grader")
            }
            try rr.finish()
        }

        let out = try r.string("output_dir") ?? "runs/\(Self.timestamp())"
        let hyper = try Hyperparameters.parse(r.raw("hyperparameters") ?? .object([:]))
        try r.finish()
        var config = TrainConfig(trainData: resolve(train), validationData: val.map(resolve), model: model,
                                 rewards: rewards, outputDir: resolve(out), hyperparameters: hyper)
        config.testData = tests
        return config
    }

    /// The resolved config as written to a run's `config.json` (every default filled in).
    public var resolvedJSON: JSONValue {
        var o: JSONObject = [:]
        var data: JSONObject = ["train": .string(trainData)]
        if let validationData { data["validation"] = .string(validationData) }
        if !testData.isEmpty { data["test"] = .object(JSONObject(testData.map { ($0.name, JSONValue.string($0.path)) })) }
        o["data"] = .object(data)
        switch model {
        case .checkpoint(let p): o["model"] = ["checkpoint": .string(p)]
        case .scratch(let c): o["model"] = ["config": JSONValue.from(c)]
        }
        switch rewards {
        case .spec(let p): o["rewards"] = ["spec": .string(p)]
        case .remote(let u, let g, let env):
            var r: JSONObject = ["url": .string(u), "grader": .string(g)]
            if let env { r["api_key_env"] = .string(env) }
            o["rewards"] = .object(r)
        }
        o["output_dir"] = .string(outputDir)
        o["hyperparameters"] = JSONValue.from(hyperparameters)
        return .object(o)
    }

    static func timestamp() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date())
    }

    static let topLevel: Set<String> = ["data", "model", "rewards", "output_dir", "hyperparameters"]

    /// The keys a config may hold, for reporting every unknown one at once.
    static var schema: ConfigSchema {
        .object([
            "data": .object(["train": .any, "validation": .any, "test": .any]),
            "model": .object(["checkpoint": .any, "config": .any, "preset": .any]),
            "rewards": .object(["spec": .any, "url": .any, "grader": .any, "api_key_env": .any]),
            "output_dir": .any,
            "hyperparameters": Hyperparameters.schema,
        ])
    }

    /// Applies one `key=value` override; the value is parsed as JSON when it can be, else taken as a string.
    public static func apply(override text: String, to json: JSONValue) throws -> JSONValue {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else { throw ConfigError.badOverride(text) }
        let key = String(text[..<eq]), raw = String(text[text.index(after: eq)...])
        let value = (try? JSONValue.parse(raw)) ?? .string(raw)
        var path = key.split(separator: ".").map(String.init)
        if path.count == 1, !topLevel.contains(path[0]) { path.insert("hyperparameters", at: 0) }
        return set(path[...], value, in: json)
    }

    private static func set(_ path: ArraySlice<String>, _ value: JSONValue, in json: JSONValue) -> JSONValue {
        guard let head = path.first else { return value }
        var o = json.objectValue ?? [:]
        o[head] = set(path.dropFirst(), value, in: o[head] ?? .object([:]))
        return .object(o)
    }
}

/// A held-out split of `data.test`: its name (`test`, `ood`, …) and JSONL path.
public struct TestSplitPath: Equatable, Sendable {
    public var name: String
    public var path: String
    public init(name: String, path: String) { self.name = name; self.path = path }
}

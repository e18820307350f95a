import Foundation

/// AdamW state saved next to a model checkpoint, in its own files:
/// `optimizer.safetensors` (`exp_avg.<tensor>` and `exp_avg_sq.<tensor>` for every
/// parameter tensor, F32) and `optimizer.json` (`{"type": "adamw", "step": N, ...}`
/// plus the hyperparameters).
public enum OptimizerCheckpoint {
    /// Writes `optimizer`'s moments and step count into `directory`.
    public static func save(_ optimizer: AdamW, layout: ParameterLayout, to directory: URL) throws {
        let state = optimizer.state
        let st = directory.appendingPathComponent("optimizer.safetensors")
        try state.m.withUnsafeBufferPointer { m in
            try state.v.withUnsafeBufferPointer { v in
                guard m.count == layout.totalCount else {
                    throw ModelIOError.writeFailed(path: st.path, detail: "optimizer holds \(m.count) moments, the layout \(layout.totalCount)")
                }
                var entries: [SafeTensorsWriter.Entry] = []
                for (prefix, buf) in [("exp_avg.", m), ("exp_avg_sq.", v)] {
                    for t in layout.tensors {
                        entries.append(.init(name: prefix + t.name, shape: t.shape,
                                             data: UnsafeBufferPointer(rebasing: buf[t.offset..<(t.offset + t.count)])))
                    }
                }
                try SafeTensorsWriter.write(entries, metadata: ["step": String(state.stepCount)], to: st)
            }
        }
        let meta: [String: Any] = ["type": "adamw", "step": state.stepCount, "beta1": optimizer.beta1,
                                   "beta2": optimizer.beta2, "eps": optimizer.eps, "weight_decay": optimizer.weightDecay]
        let url = directory.appendingPathComponent("optimizer.json")
        do {
            try JSONSerialization.data(withJSONObject: meta, options: [.prettyPrinted, .sortedKeys]).write(to: url, options: .atomic)
        } catch {
            throw ModelIOError.writeFailed(path: url.path, detail: error.localizedDescription)
        }
    }

    /// True when `directory` holds saved optimizer state.
    public static func exists(in directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("optimizer.safetensors").path)
    }

    /// Restores `optimizer` (moments, step count, hyperparameters) from `directory`.
    public static func load(into optimizer: AdamW, layout: ParameterLayout, from directory: URL) throws {
        let metaURL = directory.appendingPathComponent("optimizer.json")
        let data = try ModelIOError.read(metaURL)
        guard let meta = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let step = (meta["step"] as? NSNumber)?.intValue, step >= 0 else {
            throw ModelIOError.malformed(path: metaURL.path, detail: "needs a non-negative integer 'step'")
        }
        guard (meta["type"] as? String) == "adamw" else {
            throw ModelIOError.unsupported(path: metaURL.path, detail: "optimizer type '\(meta["type"] ?? "null")' (only adamw)")
        }
        let file = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("optimizer.safetensors"))
        func read(_ prefix: String) throws -> [Float] {
            var out = [Float](repeating: 0, count: layout.totalCount)
            try out.withUnsafeMutableBufferPointer { buf in
                for t in layout.tensors {
                    try file.read(prefix + t.name, into: UnsafeMutableBufferPointer(rebasing: buf[t.offset..<(t.offset + t.count)]),
                                  shape: t.shape)
                }
            }
            return out
        }
        let m = try read("exp_avg."), v = try read("exp_avg_sq.")
        let known = Set(layout.tensors.flatMap { ["exp_avg." + $0.name, "exp_avg_sq." + $0.name] })
        if let extra = file.tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw ModelIOError.unexpectedTensor(path: file.path, tensor: extra)
        }
        try optimizer.restore(AdamW.State(stepCount: step, m: m, v: v))
        if let b1 = (meta["beta1"] as? NSNumber)?.floatValue { optimizer.beta1 = b1 }
        if let b2 = (meta["beta2"] as? NSNumber)?.floatValue { optimizer.beta2 = b2 }
        if let e = (meta["eps"] as? NSNumber)?.floatValue { optimizer.eps = e }
        if let wd = (meta["weight_decay"] as? NSNumber)?.floatValue { optimizer.weightDecay = wd }
    }
}

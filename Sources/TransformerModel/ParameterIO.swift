import Foundation

/// Fills and saves the contiguous parameter buffer by tensor name.
public enum ParameterIO {
    /// Loads every tensor of `layout` from a checkpoint directory into `buffer`.
    ///
    /// Reads `model.safetensors`, or the shards listed by `model.safetensors.index.json`.
    /// Every tensor the layout names must be present with its exact shape; any other
    /// tensor is an error, except rotary-embedding buffers (`*.rotary_emb.inv_freq`) and a
    /// redundant `lm_head.weight` in a tied-embedding model.
    public static func load(directory: URL, layout: ParameterLayout,
                            into buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard buffer.count == layout.totalCount else {
            throw ModelIOError.malformed(path: directory.path,
                                         detail: "parameter buffer holds \(buffer.count) floats, the config needs \(layout.totalCount)")
        }
        let files = try openWeights(directory)
        var location: [String: SafeTensorsFile] = [:]
        for file in files {
            for name in file.tensors.keys {
                if let other = location[name] {
                    throw ModelIOError.malformed(path: file.path, detail: "tensor '\(name)' is also in \(other.path)")
                }
                location[name] = file
            }
        }
        for spec in layout.tensors {
            guard let file = location.removeValue(forKey: spec.name) else {
                throw ModelIOError.missingTensor(path: files.count == 1 ? files[0].path : directory.path, tensor: spec.name)
            }
            let slice = UnsafeMutableBufferPointer(rebasing: buffer[spec.offset..<(spec.offset + spec.count)])
            try file.read(spec.name, into: slice, shape: spec.shape)
        }
        for (name, file) in location.sorted(by: { $0.key < $1.key }) {
            if name.hasSuffix("rotary_emb.inv_freq") { continue }
            if name == "lm_head.weight" && layout.config.tiedEmbeddings { continue }
            throw ModelIOError.unexpectedTensor(path: file.path, tensor: name)
        }
    }

    /// Writes `buffer` as `model.safetensors` in `directory`, one tensor per layout entry.
    public static func save(_ buffer: UnsafeBufferPointer<Float>, layout: ParameterLayout, to url: URL,
                            prefix: String = "", metadata: [String: String] = ["format": "pt"]) throws {
        guard buffer.count == layout.totalCount else {
            throw ModelIOError.writeFailed(path: url.path,
                                           detail: "parameter buffer holds \(buffer.count) floats, the config needs \(layout.totalCount)")
        }
        let entries = layout.tensors.map { spec in
            SafeTensorsWriter.Entry(name: prefix + spec.name, shape: spec.shape,
                                    data: UnsafeBufferPointer(rebasing: buffer[spec.offset..<(spec.offset + spec.count)]))
        }
        try SafeTensorsWriter.write(entries, metadata: metadata, to: url)
    }

    /// The safetensors files holding a checkpoint's weights.
    static func openWeights(_ directory: URL) throws -> [SafeTensorsFile] {
        let fm = FileManager.default
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        let single = directory.appendingPathComponent("model.safetensors")
        if fm.fileExists(atPath: single.path) { return [try SafeTensorsFile(contentsOf: single)] }
        guard fm.fileExists(atPath: index.path) else {
            throw ModelIOError.unreadable(path: directory.path, detail: "no model.safetensors or model.safetensors.index.json")
        }
        guard let json = try? JSONSerialization.jsonObject(with: ModelIOError.read(index)) as? [String: Any],
              let map = json["weight_map"] as? [String: Any] else {
            throw ModelIOError.malformed(path: index.path, detail: "no 'weight_map' object")
        }
        var shards: [String] = []
        for (tensor, file) in map {
            guard let f = file as? String, !f.contains("/") else {
                throw ModelIOError.malformed(path: index.path, detail: "weight_map['\(tensor)'] is not a file name")
            }
            if !shards.contains(f) { shards.append(f) }
        }
        let files = try shards.sorted().map { try SafeTensorsFile(contentsOf: directory.appendingPathComponent($0)) }
        // The index must agree with the shards.
        for (tensor, file) in map {
            let f = file as! String
            guard let shard = files.first(where: { $0.path.hasSuffix("/" + f) }), shard.tensors[tensor] != nil else {
                throw ModelIOError.missingTensor(path: directory.appendingPathComponent(f).path, tensor: tensor)
            }
        }
        return files
    }
}

import Foundation

/// A model's weights (`model.safetensors`) and its optimiser state (`optimizer.safetensors`: Adam's
/// moments and step), so that training resumes exactly where it stopped.
public enum Checkpoint {
    public static func save(_ store: ParameterStore, optimizer: Adam?, to directory: URL, metadata: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try SafeTensors.write(store.parameters.map { ($0.name, $0.value) }, metadata: metadata,
                              to: directory.appendingPathComponent("model.safetensors"))
        if let optimizer {
            try SafeTensors.write(optimizerTensors(store, optimizer), metadata: ["step": String(optimizer.step)],
                                  to: directory.appendingPathComponent("optimizer.safetensors"))
        }
    }

    /// Loads weights (and the optimiser state, when given); returns the model file's metadata.
    @discardableResult
    public static func load(_ store: ParameterStore, optimizer: Adam?, from directory: URL) throws -> [String: String] {
        let metadata = try SafeTensors.read(directory.appendingPathComponent("model.safetensors"),
                                            into: store.parameters.map { ($0.name, $0.value) })
        if let optimizer {
            let state = try SafeTensors.read(directory.appendingPathComponent("optimizer.safetensors"),
                                             into: optimizerTensors(store, optimizer))
            guard let step = state["step"].flatMap(Int.init) else {
                throw SafeTensors.FormatError(description: "optimizer.safetensors has no step")
            }
            optimizer.step = step
        }
        return metadata
    }

    private static func optimizerTensors(_ store: ParameterStore, _ optimizer: Adam) -> [(String, Tensor)] {
        store.parameters.indices.flatMap { i in
            [("exp_avg.\(store.parameters[i].name)", optimizer.first[i]), ("exp_avg_sq.\(store.parameters[i].name)", optimizer.second[i])]
        }
    }
}

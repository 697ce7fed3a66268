import Foundation
import PleatCore

/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
/// (`{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}`),
/// then the raw little-endian tensors. Python users open Pleat weights with `safetensors.numpy.load_file`.
public enum SafeTensors {
    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes named Float32 tensors (in the given order) and string metadata, atomically.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = [:]
        var offset = 0
        for (name, tensor) in tensors {
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + tensor.count * 4]]
            offset += tensor.count * 4
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces, as the reference writer does
        var file = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for (_, tensor) in tensors {
            file.append(UnsafeBufferPointer(start: tensor.pointer, count: tensor.count))  // little-endian hosts
        }
        try file.write(to: url, options: .atomic)
    }

    /// Reads a file into `tensors` by name; every named tensor must be present with the same shape.
    /// Returns the metadata.
    @discardableResult
    public static func read(_ url: URL, into tensors: [(String, Tensor)]) throws -> [String: String] {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            // Foundation's own text names an error domain and code, not the file.
            throw FormatError(description: "\(url.path): cannot read (\(error.localizedDescription))")
        }
        guard data.count >= 8 else { throw FormatError(description: "\(url.path): too short for safetensors") }
        let headerLength = Int(data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        guard headerLength <= data.count - 8,
              let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any] else {
            throw FormatError(description: "\(url.path): unreadable safetensors header")
        }
        let base = 8 + headerLength
        for (name, tensor) in tensors {
            guard let entry = header[name] as? [String: Any] else { throw FormatError(description: "\(url.path): no tensor \(name)") }
            guard entry["dtype"] as? String == "F32" else { throw FormatError(description: "\(name): dtype \(entry["dtype"] ?? "?"), expected F32") }
            let shape = (entry["shape"] as? [Int]) ?? []
            guard shape == tensor.shape else { throw FormatError(description: "\(name): shape \(shape) in the file, \(tensor.shape) in the model") }
            guard let offsets = entry["data_offsets"] as? [Int], offsets.count == 2, offsets[1] - offsets[0] == tensor.count * 4,
                  base + offsets[1] <= data.count else {
                throw FormatError(description: "\(name): bad data offsets")
            }
            data.withUnsafeBytes { raw in
                let source = raw.start + base + offsets[0]
                UnsafeMutableRawPointer(tensor.pointer).copyMemory(from: source, byteCount: tensor.count * 4)
            }
        }
        return header["__metadata__"] as? [String: String] ?? [:]
    }
}

import Foundation

/// NumPy's `.npy` format (version 1.0) for a float32 matrix, so that `numpy.load` (and FAISS, Annoy,
/// ScaNN behind it) reads what Pleat writes without a converter.
public enum NumpyArray {
    /// The file's bytes: magic, version, a header dict padded so the data starts at a multiple of 64,
    /// then `rows` × `columns` little-endian float32 values in row-major order.
    public static func float32(rows: Int, columns: Int, values: UnsafeBufferPointer<Float>) -> Data {
        precondition(values.count == rows * columns, "\(values.count) values for a \(rows) × \(columns) matrix")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        let prefix = 10  // magic (6), version (2), header length (2)
        header += String(repeating: " ", count: (64 - (prefix + header.utf8.count + 1) % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }
}

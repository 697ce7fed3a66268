import Foundation
import PleatCore

/// Float32 values in contiguous row-major storage, with a shape.
///
/// A class, so that activations and gradients can be allocated once and then overwritten in place by
/// every training step (no allocation per step in steady state).
public final class Tensor {
    public private(set) var shape: [Int]
    public private(set) var count: Int
    /// Elements allocated: `count` may be less after `setRows`.
    public let capacity: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(_ shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        count = shape.reduce(1, *)
        capacity = count
        // calloc, not allocate-and-fill: a large block comes as zero pages mapped on first touch, so buffers
        // a run never writes (a scoring model's gradients and backward caches) cost no memory and no time.
        guard let zeros = calloc(max(count, 1), MemoryLayout<Float>.stride) else { fatalError("out of memory for a tensor of shape \(shape)") }
        pointer = zeros.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    public convenience init(_ shape: [Int], values: [Float]) {
        self.init(shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { pointer.update(from: $0.start, count: count) }
    }

    deinit { free(pointer) }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    public var array: [Float] { Array(buffer) }

    /// Rows and columns when the tensor is viewed as a matrix (all leading dimensions are rows).
    public var rows: Int { shape.count <= 1 ? 1 : count / columns }
    public var columns: Int { shape.last ?? 1 }

    @inline(__always) public subscript(_ i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    /// Uses the first `rows` rows of the storage (the leading dimension), up to its capacity: activations
    /// allocated for the longest batch serve shorter ones, so a batch costs its own length, not the
    /// longest one's.
    public func setRows(_ rows: Int) {
        guard !shape.isEmpty, shape[0] != rows else { return }
        let perRow = shape.dropFirst().reduce(1, *)
        precondition(rows >= 0 && rows * perRow <= capacity, "\(rows) rows of \(shape.dropFirst()) exceed the capacity \(capacity)")
        shape[0] = rows
        count = rows * perRow
    }

    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }

    public func zero() { fill(0) }

    public func copy(from other: Tensor) {
        precondition(other.count == count, "copy of \(other.shape) into \(shape)")
        pointer.update(from: other.pointer, count: count)
    }
}

/// Named temporary tensors that survive from one call to the next, so a layer or loss whose shapes do
/// not change allocates nothing per step. A tensor is reallocated only when its shape changes.
public final class Scratch: @unchecked Sendable {
    private var tensors: [String: Tensor] = [:]

    public init() {}

    /// The tensor called `name` with this shape; its contents are whatever the last call left.
    public func tensor(_ name: String, _ shape: [Int]) -> Tensor {
        if let t = tensors[name], t.shape == shape { return t }
        let t = Tensor(shape)
        tensors[name] = t
        return t
    }
}

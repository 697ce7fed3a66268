/// Which positions train the catalogue part of a model with the repeat head (`RepeatHead`). The default
/// is `separate`: on Yelp and the Taobao head it ranked best under `include` and, alone of the three,
/// ranks under `exclude` exactly as the model without the head (docs/benchmarks/repeat-heavy-logs.md).
public enum RepeatCatalogue: String, Sendable, Codable, CaseIterable {
    /// The positions whose target is new, with the user's own items masked: the catalogue learns
    /// exactly the distribution the mixture uses for new items (the decoupled likelihood).
    case newTargets = "new_targets"
    /// Every position, own items not masked, as the model without the head trains: the catalogue also
    /// learns the transitions to items a user comes back to, and ranks new items as that model would
    /// (what `seen = exclude` serves); the gate and the own items' distribution train on top.
    case everyPosition = "every_position"
    /// As `everyPosition`, and the head's gradient stops at the encoder's state: the encoder and the
    /// catalogue train exactly as the model without the head, which is what `seen = exclude` then
    /// serves, and the gate and the own items learn on top of that state.
    case separate

    /// Whether the catalogue's loss leaves out the positions whose target is an own item and masks the
    /// own items in the rest.
    var masksOwnItems: Bool { self == .newTargets }
    /// Whether the head's gradient flows into the encoder's state.
    var headTrainsEncoder: Bool { self != .separate }
}

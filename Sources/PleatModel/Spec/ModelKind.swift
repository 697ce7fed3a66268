/// The sequence models Pleat trains.
public enum ModelKind: String, Sendable, Codable, CaseIterable {
    case sasrec, bert4rec, hstu
}

import Foundation
import PleatTensor

/// A model's item embeddings as a team's own nearest-neighbour index wants them: one row per item of
/// the vocabulary (padding and [MASK] left out), with the item's external id (`pleat models
/// export-embeddings`). They are the rows of the tied item table that scoring takes dot products with
/// (HSTU ranks by cosine: normalise them for its ranking).
public struct ItemEmbeddings {
    public let itemIds: [String]
    /// Row-major, `itemIds.count` × `dimension`.
    public let values: [Float]
    public let dimension: Int

    /// The item table of `artifact`'s weights.
    public init(_ artifact: ModelArtifact) throws {
        let store = try artifact.makeModel(batchSize: 1).store
        guard let table = store[Self.tableName] else { throw ArtifactError("\(artifact.modelId): no parameter \(Self.tableName)") }
        let items = artifact.vocabulary.count, d = table.shape.dropFirst().reduce(1, *)
        precondition(table.shape[0] > items, "the item table has a row per item after padding")
        dimension = d
        itemIds = Array(artifact.vocabulary.externalIds[1...items])
        values = Array(table.value.array[d..<((items + 1) * d)])
    }

    /// The item table's parameter name in every model kind.
    public static let tableName = "item_emb.weight"
}

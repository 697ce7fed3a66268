import ArgumentParser
import Foundation
import PleatCore
import PleatTraining
import PleatModel
import PleatScoring

/// `pleat models`: the model registry.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The model registry and model artifacts.",
                                                    subcommands: [List.self, Show.self, Export.self, ExportEmbeddings.self, Import.self, Upgrade.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Registered models, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this model kind.") var model: ModelKind?
        @Flag(help: "Print one JSON array of the records.") var json = false

        func run() throws {
            let records = try ModelRegistry(try global.database.connect()).list(kind: model)
            if json {
                print(String(decoding: try JSONEncoder.snakeCase().encode(records), as: UTF8.self))
                return
            }
            var table = TextTable(["id", "model", "created", "epochs", "best", "valid NDCG@10", "test HR@10", "test NDCG@10", "test MRR", "train"])
            for r in records {
                table.add([r.id, r.kind.rawValue, r.createdAt ?? "", String(r.epochs), String(r.bestEpoch),
                           String(format: "%.4f", r.valid.ndcg(at: 10) ?? 0), String(format: "%.4f", r.test.hitRate(at: 10) ?? 0),
                           String(format: "%.4f", r.test.ndcg(at: 10) ?? 0), String(format: "%.4f", r.test.mrr), Format.duration(r.trainSeconds)])
            }
            print(records.isEmpty ? "no models registered yet: run `pleat train --model sasrec`" : table.render())
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One model: spec, data snapshot, metrics, artifact path, its checksums verified.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A registered model id, or 'latest'.") var id: String
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let registry = ModelRegistry(try global.database.connect())
            let record = try Models.record(id, in: registry)
            var verified = "verified", artifact: ModelArtifact?
            do { artifact = try ModelArtifact.load(from: URL(fileURLWithPath: record.artifactPath), expectedWeightsSHA256: record.artifactSHA256) } catch {
                verified = "NOT verified: \(error)"
            }
            if json {
                try printJSONLine(ShownModel(record: record, spec: artifact?.spec, foldKeys: artifact?.foldKeys.map { "\($0.count) keys" },
                                             lineage: try record.lineage(find: registry.find), artifactVerified: artifact != nil, problem: artifact == nil ? verified : nil))
                if artifact == nil { throw ExitCode(1) }
                return
            }
            var table = TextTable(["", ""])
            table.add(["model", "\(record.id) (\(record.kind.rawValue)), registered \(record.createdAt ?? "?")"])
            table.add(["data", "up to ingest batch \(record.snapshotBatch): \(Format.count(record.users)) users, \(Format.count(record.items)) items, "
                       + "\(Format.count(record.events)) events"])
            if let spec = artifact?.spec {
                table.add(["spec", "max_length \(spec.maxLength), dimension \(spec.dimension), fold key \(spec.fold.key.rawValue)"
                           + (artifact?.foldKeys.map { " (\($0.count) keys, frozen)" } ?? "")])
            }
            table.add(["training", "best epoch \(record.bestEpoch) of \(record.epochs), \(Format.duration(record.trainSeconds))"])
            let lineage = try record.lineage(find: registry.find)
            table.add(["lineage", lineage.isEmpty ? "trained from random weights" : "warm-started from " + lineage.joined(separator: " ← ")])
            table.add(["valid", String(format: "NDCG@10 %.4f, HR@10 %.4f", record.valid.ndcg(at: 10) ?? 0, record.valid.hitRate(at: 10) ?? 0)])
            table.add(["test", String(format: "NDCG@10 %.4f, HR@10 %.4f, MRR %.4f", record.test.ndcg(at: 10) ?? 0, record.test.hitRate(at: 10) ?? 0,
                                      record.test.mrr)])
            table.add(["artifact", record.artifactPath])
            table.add(["sha256", "\(record.artifactSHA256) (\(verified))"])
            print(table.render())
            if artifact == nil { throw ExitCode(1) }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a model's artifact and registry record into a directory (for `pleat models import` elsewhere).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A registered model id, or 'latest'.") var id: String
        @Argument(help: "A new (or empty) directory.") var directory: String
        @Flag(help: "Print one JSON object: model_id, directory.") var json = false

        func run() throws {
            let registry = ModelRegistry(try global.database.connect())
            let record = try Models.record(id, in: registry)
            try ModelTransfer.export(record, to: URL(fileURLWithPath: directory))
            if json { return try printJSONLine(["model_id": record.id, "directory": directory]) }
            print("exported \(record.id) to \(directory)")
        }
    }

    struct ExportEmbeddings: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-embeddings",
            abstract: "Write a model's item embeddings (one row per item) for a nearest-neighbour index of your own.",
            discussion: """
                npy: a float32 matrix (items × dimension) that numpy.load reads, and the item ids, one a line in row order, \
                beside it (emb.npy → emb.ids.txt). csv: item_id then the dimensions, one row per item. HSTU ranks by cosine: \
                normalise its rows.
                """)
        enum FileFormat: String, ExpressibleByArgument, CaseIterable { case npy, csv }
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A registered model id, or 'latest'.") var id: String
        @Option(help: "npy or csv (default: from --output's extension).") var format: FileFormat?
        @Option(help: "The file to write.") var output: String
        @Flag(help: "Print one JSON object: model_id, items, dimension, files.") var json = false

        func run() throws {
            let registry = ModelRegistry(try global.database.connect())
            let record = try Models.record(id, in: registry)
            let artifact = try ModelArtifact.load(from: URL(fileURLWithPath: record.artifactPath), expectedWeightsSHA256: record.artifactSHA256)
            let embeddings = try ItemEmbeddings(artifact)
            let chosen = format ?? (output.hasSuffix(".csv") ? .csv : .npy)
            var files = [output]
            switch chosen {
            case .npy:
                let data = embeddings.values.withUnsafeBufferPointer {
                    NumpyArray.float32(rows: embeddings.itemIds.count, columns: embeddings.dimension, values: $0)
                }
                try DurableFile.write(data, to: URL(fileURLWithPath: output))
                let ids = (output.hasSuffix(".npy") ? String(output.dropLast(4)) : output) + ".ids.txt"
                try DurableFile.write(Data((embeddings.itemIds.joined(separator: "\n") + "\n").utf8), to: URL(fileURLWithPath: ids))
                files.append(ids)
            case .csv:
                var text = "item_id," + (0..<embeddings.dimension).map { "e\($0)" }.joined(separator: ",") + "\n"
                for (row, item) in embeddings.itemIds.enumerated() {
                    let values = embeddings.values[(row * embeddings.dimension)..<((row + 1) * embeddings.dimension)]
                    text += RecommendationExport.csvField(item) + "," + values.map { "\($0)" }.joined(separator: ",") + "\n"
                }
                try DurableFile.write(Data(text.utf8), to: URL(fileURLWithPath: output))
            }
            if json {
                return try printJSONLine(EmbeddingsExported(modelId: record.id, items: embeddings.itemIds.count, dimension: embeddings.dimension, files: files))
            }
            print("wrote \(Format.count(embeddings.itemIds.count)) item embeddings of dimension \(embeddings.dimension) of \(record.id) to \(files.joined(separator: " and "))")
        }

        struct EmbeddingsExported: Encodable {
            let modelId: String, items: Int, dimension: Int, files: [String]
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify an exported model, copy it into this home's artifacts and register it in this database.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A directory `pleat models export` wrote.") var directory: String
        @Option(help: "Artifacts directory (default: <home>/models).") var artifacts: String?
        @Flag(help: "Print one JSON object: model_id, artifact_path, artifact_sha256.") var json = false

        func run() throws {
            let record = try ModelTransfer.import(from: URL(fileURLWithPath: directory),
                                                  artifacts: artifacts.map { URL(fileURLWithPath: $0) } ?? global.pleatHome.url.appendingPathComponent("models"),
                                                  registry: ModelRegistry(try global.database.connect()))
            if json { return try printJSONLine(["model_id": record.id, "artifact_path": record.artifactPath, "artifact_sha256": record.artifactSHA256]) }
            print("imported \(record.id) (\(record.artifactPath))")
        }
    }

    struct Upgrade: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert models registered by an earlier Pleat (no spec.json) into self-contained artifacts.",
            discussion: "Fold keys and item counts, which such models did not store, are taken from the database as it is now.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print one JSON object: the ids converted.") var json = false

        func run() throws {
            let db = try global.database.connect()
            var converted: [String] = []
            for record in try ModelRegistry(db).list() where try LegacyArtifactUpgrade.upgrade(record, db: db) {
                if !json { print("converted \(record.id)") }
                converted.append(record.id)
            }
            if json { return try printJSONLine(["converted": converted]) }
            print(converted.isEmpty ? "every registered model is already an artifact" : "\(converted.count) model(s) converted")
        }
    }
}

/// `pleat models show --json`.
struct ShownModel: Encodable {
    var record: ModelRecord
    var spec: ModelSpec?
    var foldKeys: String?
    /// Ancestors through warm starts, parent first (empty: trained from random weights).
    var lineage: [String]
    var artifactVerified: Bool
    var problem: String?
}

extension Models {
    /// The registered model `id` names ('latest': the newest), or an error that says where to look.
    static func record(_ id: String, in registry: ModelRegistry) throws -> ModelRecord {
        guard let record = try (id == "latest" ? registry.list(limit: 1).first : registry.find(id)) else {
            throw ValidationError("no model \(id) in the registry (see `pleat models list`)")
        }
        return record
    }
}

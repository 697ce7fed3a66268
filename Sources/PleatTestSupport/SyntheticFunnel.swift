import Foundation
import PleatIngest
import PleatStorage

/// A shop's funnel for tests of behaviours: `pleat synth --funnel`'s log (views, carts of some viewed
/// items, purchases of carted ones; `SyntheticLog`) written to `directory` and ingested into `db` with its
/// event column, as a user would.
public enum SyntheticFunnel {
    public static func ingest(into db: PostgresConnection, directory: URL, users: Int, items: Int, medianEvents: Int, seed: UInt64) throws {
        var settings = SyntheticLog.Settings()
        (settings.users, settings.items, settings.medianEvents, settings.seed, settings.funnel) = (users, items, medianEvents, seed, true)
        let file = directory.appendingPathComponent("funnel.csv").path
        _ = try SyntheticLog(settings: settings).write(interactions: file, items: directory.appendingPathComponent("funnel.items.csv").path)
        var options = IngestOptions(format: .csv)
        options.mapping.event = "event_type"
        _ = try Ingestor(db: db).ingest(file: file, options: options)
    }
}

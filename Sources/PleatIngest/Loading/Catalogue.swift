/// External → internal ids of everything an ingest batch may touch: those already stored (preloaded)
/// and those first seen in the batch, which `IngestTables.insertIds` stores at the end.
struct Catalogue {
    var users: IdMap
    var items: IdMap
    var events: IdMap
}

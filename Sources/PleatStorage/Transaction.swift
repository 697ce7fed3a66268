/// BEGIN … COMMIT around a body, rolling back if it throws: the one transaction rule both databases use.
enum Transaction {
    static func run<T>(begin: String, execute: (String) throws -> Void, _ body: () throws -> T) throws -> T {
        try execute(begin)
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }
}

import XCTest
@testable import PleatStorage

/// Passwords never leave in a message, whatever the form of the connection string.
final class ConnectionStringTests: XCTestCase {
    func testPasswordsAreMaskedInEveryForm() {
        let cases = [
            ("postgresql://ann:s3cret@db.example/pleat", "postgresql://ann:***@db.example/pleat"),
            ("postgres://ann:s3cr%40t@db/pleat?sslmode=require", "postgres://ann:***@db/pleat?sslmode=require"),
            ("postgresql://db/pleat?user=ann&password=s3cret&sslmode=require", "postgresql://db/pleat?user=ann&password=***&sslmode=require"),
            ("host=db user=ann password=s3cret dbname=pleat", "host=db user=ann password=*** dbname=pleat"),
            ("host=db password = 's3 cr\\'et' dbname=pleat", "host=db password = *** dbname=pleat"),
            ("host=db PASSWORD=s3cret", "host=db PASSWORD=***"),
            ("postgresql:///pleat?host=/run/x&user=postgres", "postgresql:///pleat?host=/run/x&user=postgres"),
        ]
        for (given, expected) in cases { XCTAssertEqual(ConnectionString.redacted(given), expected, given) }
    }

    func testAFailedConnectionDoesNotPrintThePassword() {
        for url in ["host=/tmp/no-such-dir user=ann password=s3cret dbname=x", "postgresql://ann:s3cret@/x?host=/tmp/no-such-dir"] {
            XCTAssertThrowsError(try PostgresConnection(url: url)) { error in
                XCTAssertFalse("\(error)".contains("s3cret"), "\(error)")
                XCTAssertTrue("\(error)".contains("cannot connect"), "\(error)")
            }
        }
    }
}

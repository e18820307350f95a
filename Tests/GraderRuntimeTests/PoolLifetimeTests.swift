import XCTest
@testable import GraderRuntime
final class PoolLifetimeTests: XCTestCase {
    /// A pool dropped without `shutdown()` stops its workers instead of leaking them (or crashing).
    func testDroppingAPoolShutsItDown() throws {
        let before = Set(childProcesses())
        do {
            let p = try GraderPool(directory: Fixture.example("trivial"))
            XCTAssertEqual(p.score(Fixture.samples(10)).compactMap(\.score).count, 10)
        }
        XCTAssertEqual(leftoverChildren(since: before), [])
    }
}

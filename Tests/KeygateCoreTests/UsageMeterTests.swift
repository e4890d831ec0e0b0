import Foundation
import Testing

@testable import KeygateCore

@Suite("Usage counted in memory")
struct UsageMeterTests {
    func principal(org: Int64, admin: Int64, version: Int64) -> Principal {
        var a = Fixture.admin()
        a.id = admin
        return Principal(
            tokenHash: "h", orgID: org, admin: a, role: Fixture.role(.readOnly), channel: .api(.ztw), sessionKeyVersion: version)
    }

    @Test("counts per organization, admin, UTC day and key version; drain empties; a failed flush puts its counts back")
    func countsDrainAndRestore() throws {
        let meter = UsageMeter()
        let day0 = Date(timeIntervalSince1970: 86_400 * 20_000 + 86_399)  // the last second of a UTC day
        let day1 = day0.addingTimeInterval(1)
        for _ in 0..<3 { meter.count(principal(org: 1, admin: 7, version: 1), at: day0) }
        meter.count(principal(org: 1, admin: 7, version: 2), at: day0)
        meter.count(principal(org: 1, admin: 8, version: 2), at: day1)
        meter.count(principal(org: 2, admin: 9, version: 1), at: day1)
        let drained = Set(meter.drain())
        #expect(
            drained == [
                UsageCount(orgID: 1, adminID: 7, day: 20_000, keyVersion: 1, requests: 3),
                UsageCount(orgID: 1, adminID: 7, day: 20_000, keyVersion: 2, requests: 1),
                UsageCount(orgID: 1, adminID: 8, day: 20_001, keyVersion: 2, requests: 1),
                UsageCount(orgID: 2, adminID: 9, day: 20_001, keyVersion: 1, requests: 1),
            ])
        #expect(meter.drain().isEmpty)
        meter.restore(Array(drained))
        meter.count(principal(org: 1, admin: 7, version: 1), at: day0)
        let again = meter.drain()
        #expect(again.first { $0.adminID == 7 && $0.keyVersion == 1 }?.requests == 4)
        #expect(again.reduce(0) { $0 + $1.requests } == 7)
    }

    @Test("concurrent counting loses nothing")
    func concurrent() async {
        let meter = UsageMeter()
        let p = principal(org: 1, admin: 1, version: 1)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { for _ in 0..<10_000 { meter.count(p, at: Date()) } } }
        }
        #expect(meter.drain().reduce(0) { $0 + $1.requests } == 80_000)
    }
}

import Foundation
import KeygateCore
import Logging
import SQLKit
import Synchronization
import Testing

@testable import KeygateStorage

@Suite("Storage contract: instances, usage and request counters")
struct InstanceStoreContractTests {
    @Test("master-key rotation: stored keys page by id, re-seal only where unchanged, heartbeats", arguments: Backend.available)
    func masterKeyRotationStorage(_ backend: Backend) async throws {
        try await withStore(backend) { db, store in
            let orgs = [try await provision(store, "A"), try await provision(store, "B"), try await provision(store, "C")]
            let all = try await store.sealedKeys(afterID: 0, limit: 10)
            #expect(all.map(\.orgID) == orgs.map(\.organization.id))
            #expect(try await store.sealedKeys(afterID: all[0].id, limit: 1).map(\.id) == [all[1].id])
            #expect(try await store.sealedKeys(afterID: all[2].id, limit: 10).isEmpty)
            // One row still holds what was read, one changed meanwhile (its `from` is stale): only the first is replaced.
            // The organizations in the batch are announced, each alone; C's cached sessions are left alone.
            let announced = Mutex<[ChangeFeed.Event]>([])
            db.changes.subscribe { event in announced.withLock { $0.append(event) } }
            let replaced = try await store.resealKeys([
                KeyReseal(id: all[0].id, orgID: all[0].orgID, from: all[0].value, to: "v2:new:A"),
                KeyReseal(id: all[1].id, orgID: all[1].orgID, from: "v2:stale:B", to: "v2:new:B"),
            ])
            #expect(replaced == 1)
            #expect(announced.withLock { $0 } == [.changed(.organization(id: all[0].orgID)), .changed(.organization(id: all[1].orgID))])
            let after = try await store.sealedKeys(afterID: 0, limit: 10)
            #expect(after[0].value == "v2:new:A" && after[1].value == all[1].value)
            // The key's version and modification stay: a re-seal is not a key change.
            #expect(after[0].version == all[0].version && after[0].lastModifiedAt == all[0].lastModifiedAt)
            #expect(try await store.resealKeys([]) == 0)

            let first = InstanceHeartbeat(id: "i1", primaryKeyID: "k1", keyIDs: ["k1"], seenAt: t0)
            try await store.recordInstance(first)
            try await store.recordInstance(InstanceHeartbeat(id: "i2", primaryKeyID: "k2", keyIDs: ["k2", "k1"], seenAt: t0.addingTimeInterval(5)))
            try await store.recordInstance(InstanceHeartbeat(id: "i1", primaryKeyID: "k2", keyIDs: ["k2", "k1"], seenAt: t0.addingTimeInterval(6)))
            let seen = try await store.instances(seenSince: t0)
            #expect(seen.map(\.id) == ["i2", "i1"] && seen[1].keyIDs == ["k2", "k1"] && seen[1].primaryKeyID == "k2")
            #expect(try await store.instances(seenSince: t0.addingTimeInterval(6)).map(\.id) == ["i1"])
            try await store.deleteInstances(id: nil, seenBefore: t0.addingTimeInterval(6))
            #expect(try await store.instances(seenSince: t0).map(\.id) == ["i1"])
            try await store.deleteInstances(id: "i1", seenBefore: nil)
            #expect(try await store.instances(seenSince: t0).isEmpty)
        }
    }

    @Test("usage: flushes add to the stored counts; a period reads only its days", arguments: Backend.available)
    func usage(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let org = try await provision(store).organization.id
            try await store.addUsage([
                UsageCount(orgID: org, adminID: 1, day: 100, keyVersion: 1, requests: 5),
                UsageCount(orgID: org, adminID: 2, day: 101, keyVersion: 1, requests: 2),
                UsageCount(orgID: org + 1, adminID: 3, day: 101, keyVersion: 1, requests: 9),
            ])
            // A second flush (another instance's, or the next interval's) adds to the same row.
            try await store.addUsage([
                UsageCount(orgID: org, adminID: 1, day: 100, keyVersion: 1, requests: 3),
                UsageCount(orgID: org, adminID: 1, day: 100, keyVersion: 2, requests: 1),
            ])
            try await store.addUsage([])
            #expect(
                try await store.usage(orgID: org, fromDay: 100, toDay: 101) == [
                    UsageCount(orgID: org, adminID: 1, day: 100, keyVersion: 1, requests: 8),
                    UsageCount(orgID: org, adminID: 1, day: 100, keyVersion: 2, requests: 1),
                    UsageCount(orgID: org, adminID: 2, day: 101, keyVersion: 1, requests: 2),
                ])
            #expect(try await store.usage(orgID: org, fromDay: 101, toDay: 200).map(\.requests) == [2])
            // Many rows in one flush (several multi-row statements).
            try await store.addUsage((0..<450).map { UsageCount(orgID: org, adminID: Int64($0), day: 300, keyVersion: 1, requests: 1) })
            #expect(try await store.usage(orgID: org, fromDay: 300, toDay: 300).count == 450)
        }
    }

    @Test(
        "window counters: exact under concurrency, a refused acquire costs nothing, a success settled in one step, prune",
        arguments: Backend.available)
    func windowCounters(_ backend: Backend) async throws {
        try await withStore(backend) { db, _ in
            let counters = SQLWindowCounters(db: db)
            let minute = CounterBucket(key: "m", budget: 5, expiresAt: t0.addingTimeInterval(60))
            let hour = CounterBucket(key: "h", budget: 100, expiresAt: t0.addingTimeInterval(3600))
            let granted = await simultaneousAcquires(counters, [minute, hour], count: 20)
            #expect(granted == 5)
            #expect(try await counters.counts(["m", "h", "none"]) == ["m": 5, "h": 5, "none": 0])
            // A success: one unit back to "h" (and none below zero for "z"), "m" forgotten, the marker "k" set and
            // extended.
            let z = CounterBucket(key: "z", budget: 5, expiresAt: t0.addingTimeInterval(60))
            try await counters.recordSuccess(release: [minute, hour, z], forget: ["m"], remember: "k", until: t0.addingTimeInterval(600))
            try await counters.recordSuccess(release: [], forget: ["none"], remember: "k", until: t0.addingTimeInterval(900))
            #expect(try await counters.counts(["m", "h", "z", "k"]) == ["m": 0, "h": 4, "z": 0, "k": 1])
            try await counters.prune(now: t0.addingTimeInterval(700))
            #expect(try await counters.counts(["h", "k"]) == ["h": 4, "k": 1], "the marker's expiry moved to 900")
            try await counters.prune(now: t0.addingTimeInterval(3601))
            #expect(try await counters.counts(["h", "k"]) == ["h": 0, "k": 0])
        }
    }

    @Test(
        "sliding window counters: the previous window counts by its weight, exactly under concurrency, on every backend",
        arguments: Backend.available)
    func slidingWindowCounters(_ backend: Backend) async throws {
        try await withStore(backend) { db, _ in
            let counters = SQLWindowCounters(db: db)
            let start = Date(timeIntervalSince1970: 1_795_749_000)
            // 4 in the window [start, start+60).
            let first = CounterBucket.sliding("lf|p|ann|1.1.1.1", length: 60, budget: 5, now: start.addingTimeInterval(50))
            for _ in 0..<4 { #expect(try await counters.acquire([first]) == nil) }
            // 15 s into the next window the 4 still count for floor(4 * 0.75) = 3: of 20 simultaneous attempts, 2 fit.
            let next = CounterBucket.sliding("lf|p|ann|1.1.1.1", length: 60, budget: 5, now: start.addingTimeInterval(75))
            let granted = await simultaneousAcquires(counters, [next], count: 20)
            #expect(granted == 2)
            #expect(try await counters.counts(next.keys) == [next.key: 2, next.previousKey!: 4])
            // A success forgets both windows of the pair.
            try await counters.recordSuccess(release: [next], forget: next.keys, remember: "lk|ann|1.1.1.1", until: start.addingTimeInterval(999))
            #expect(try await counters.counts(next.keys) == [next.key: 0, next.previousKey!: 0])
            // Rows live through the next window, where they are the previous one.
            #expect(next.expiresAt == start.addingTimeInterval(180))
        }
    }
}

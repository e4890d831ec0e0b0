import Foundation
import KeygateCore
import Logging
import SQLKit
import Synchronization
import Testing

@testable import KeygateStorage

@Suite("Storage contract: organizations and keys")
struct KeyStoreContractTests {
    @Test("provisioning creates org, Super Admin role, admin and key; names are unique", arguments: Backend.available)
    func provisioning(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let org = try await provision(store)
            #expect(org.role.isNonEditable && org.role.apiKeyAccess == .readWrite)
            #expect(org.key?.version == 1 && org.key?.enabled == true)
            #expect(org.key?.value == "sealed-\(org.organization.id)")
            #expect(try await store.organization(named: "Acme")?.id == org.organization.id)
            #expect(try await store.organization(id: org.organization.id)?.rotationPolicy == .endOldSessions)
            await #expect(throws: KeygateError.self) { try await provision(store) }
            _ = try await provision(store, "Beta", key: false)
            let summaries = try await store.organizationSummaries(afterID: 0, limit: 10)
            #expect(summaries.map(\.organization.name) == ["Acme", "Beta"])
            #expect(summaries.map(\.keyEnabled) == [true, nil])
            #expect(summaries.map(\.adminCount) == [1, 1])
        }
    }

    @Test("key changes: add only when none, optimistic versions, delete, enable/disable", arguments: Backend.available)
    func keyChanges(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let org = try await provision(store)
            await #expect(throws: KeygateError.conflict("the organization already has an API key")) {
                try await store.applyKeyChange(change(org, .add(sealedValue: "x")))
            }
            let replaced = try await store.applyKeyChange(change(org, .replace(sealedValue: "v2", expectedVersion: 1)))
            #expect(replaced.key?.version == 2 && replaced.key?.value == "v2")
            #expect(replaced.key?.lastModifiedBy == .admin(id: org.admin.id, name: "Root"))
            await #expect(throws: KeygateError.editLockNotAvailable) {
                try await store.applyKeyChange(change(org, .replace(sealedValue: "v3", expectedVersion: 1)))
            }
            let stored = try await store.sealedKey(orgID: org.organization.id)
            #expect(stored?.value == "v2" && stored?.lastModifiedAt == t0.addingTimeInterval(5))
            let disabled = try await store.applyKeyChange(change(org, .setEnabled(false, expectedVersion: 2), .endAll))
            #expect(disabled.key?.enabled == false)
            _ = try await store.applyKeyChange(change(org, .delete(expectedVersion: 3), .endAll))
            #expect(try await store.sealedKey(orgID: org.organization.id) == nil)
            await #expect(throws: KeygateError.self) { try await store.applyKeyChange(change(org, .delete(expectedVersion: 3))) }
            let added = try await store.applyKeyChange(change(org, .add(sealedValue: "new")))
            #expect(added.key?.version == 1 && added.key?.id != org.key?.id)
        }
    }

    @Test("concurrent rotations of one key: exactly one wins, the others get the edit lock", arguments: Backend.available)
    func concurrentRotation(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let org = try await provision(store)
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        do {
                            _ = try await store.applyKeyChange(
                                change(org, .replace(sealedValue: "v\(i)", expectedVersion: 1), action: .keyRegenerated))
                            return true
                        } catch { return false }
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await store.sealedKey(orgID: org.organization.id)?.version == 2)
            #expect(try await store.auditEvents(orgID: org.organization.id, actionPrefix: "key.regenerated", limit: 10).count == 1)
        }
    }

    @Test("rotation effects: end old sessions but the caller's, keep them, or give them grace", arguments: Backend.available)
    func rotationEffects(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let org = try await provision(store)
            for (i, token) in ["caller", "other1", "other2"].enumerated() {
                #expect(try await store.createSession(session(token, org), replayDigest: "d\(i)", replayExpiresAt: t0, audit: audit(org)))
            }
            // End: others deleted, caller moved to version 2.
            let r1 = try await store.applyKeyChange(
                change(org, .replace(sealedValue: "v2", expectedVersion: 1), .rotate(policy: .endOldSessions, callerTokenHash: "caller")))
            #expect(r1.endedSessions == 2)
            #expect(try await store.sessionSnapshot(tokenHash: "other1") == nil)
            #expect(try await store.sessionSnapshot(tokenHash: "caller")?.session.keyVersion == 2)
            let trail = try await store.auditEvents(orgID: org.organization.id, actionPrefix: "key.", limit: 5)
            #expect(trail.first?.detail.contains("2 session(s) ended") == true)

            // Keep: everyone moves along.
            _ = try await store.createSession(session("old", org, version: 2), replayDigest: "d9", replayExpiresAt: t0, audit: audit(org))
            let r2 = try await store.applyKeyChange(
                change(org, .replace(sealedValue: "v3", expectedVersion: 2), .rotate(policy: .keepOldSessions, callerTokenHash: nil)))
            #expect(r2.endedSessions == 0)
            #expect(try await store.sessionSnapshot(tokenHash: "old")?.session.keyVersion == 3)

            // Grace: others keep their version with a deadline; the caller moves and has none.
            _ = try await store.applyKeyChange(
                change(org, .replace(sealedValue: "v4", expectedVersion: 3), .rotate(policy: .grace(seconds: 60), callerTokenHash: "caller")))
            let old = try await store.sessionSnapshot(tokenHash: "old")
            #expect(old?.session.keyVersion == 3 && old?.keyVersion == 4)
            #expect(old?.session.graceUntil == t0.addingTimeInterval(65))
            let caller = try await store.sessionSnapshot(tokenHash: "caller")
            #expect(caller?.session.keyVersion == 4 && caller?.session.graceUntil == nil)

            // Delete ends everything, the caller's too.
            let r3 = try await store.applyKeyChange(change(org, .delete(expectedVersion: 4), .endAll))
            #expect(r3.endedSessions == 2)
            #expect(try await store.sessionCount(orgID: org.organization.id) == 0)
        }
    }
}

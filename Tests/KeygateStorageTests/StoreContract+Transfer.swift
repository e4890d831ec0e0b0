import Foundation
import KeygateCore
import Logging
import SQLKit
import Synchronization
import Testing

@testable import KeygateStorage

@Suite("Storage contract: copying between databases (migrate-data)")
struct TransferContractTests {
    @Test("migrate-data: a populated SQLite database copies into an empty one with every row, id and link intact", arguments: Backend.available)
    func dataCopy(_ backend: Backend) async throws {
        try await withStore(.sqliteFile) { source, sourceStore in
            try await copyChecks(source: source, sourceStore: sourceStore, into: backend)
        }
    }

    private func copyChecks(source: any DatabaseHandle, sourceStore: SQLKeygateStore, into backend: Backend) async throws {
        var orgs: [ProvisionedOrganization] = []
        for i in 0..<7 { orgs.append(try await provision(sourceStore, "Org\(i)", key: i != 3)) }
        _ = try await sourceStore.applyKeyChange(change(orgs[0], .replace(sealedValue: "rotated", expectedVersion: 1)))
        #expect(try await sourceStore.createSession(session("live", orgs[1]), replayDigest: "r", replayExpiresAt: t0, audit: audit(orgs[1])))
        // Usage, and a webhook endpoint with an event waiting (the key change below enqueues it) and a rolled secret.
        try await sourceStore.addUsage([UsageCount(orgID: orgs[2].organization.id, adminID: orgs[2].admin.id, day: 9, keyVersion: 1, requests: 5)])
        let hook = try await sourceStore.insertWebhookEndpoint(
            WebhookEndpoint(
                id: 0, orgID: orgs[4].organization.id, url: "https://h.example/k", events: [.keyRegenerated], enabled: true, createdAt: t0),
            sealedSecret: "v2:k:one", limit: 20, audit: audit(orgs[4]))
        try await sourceStore.rollWebhookSecret(
            orgID: orgs[4].organization.id, id: hook.id, sealedSecret: "v2:k:two", previousUntil: t0.addingTimeInterval(60), audit: audit(orgs[4]))
        _ = try await sourceStore.applyKeyChange(
            change(orgs[4], .replace(sealedValue: "again", expectedVersion: 1), action: .keyRegenerated))
        try await withStore(backend) { target, targetStore in
            let counts = try await DataCopier.copy(from: source, to: target, batchSize: 3)
            #expect(counts.count == DataCopier.tables.count)
            for c in counts { #expect(c.source == c.target, "\(c.table)") }
            #expect(counts.first { $0.table == "organizations" }?.target == 7)
            // Ids, links and sealed values survive, and the live session still resolves.
            #expect(try await targetStore.sealedKey(orgID: orgs[0].organization.id)?.value == "rotated")
            #expect(try await targetStore.sealedKey(orgID: orgs[3].organization.id) == nil)
            let snapshot = try #require(try await targetStore.sessionSnapshot(tokenHash: "live"))
            #expect(snapshot.admin.id == orgs[1].admin.id && snapshot.keyID == orgs[1].key?.id)
            #expect(try await targetStore.usage(orgID: orgs[2].organization.id, fromDay: 0, toDay: 10).map(\.requests) == [5])
            #expect(try await targetStore.webhookSecrets(endpointID: hook.id, at: t0) == ["v2:k:two", "v2:k:one"])
            let pending = try await targetStore.claimWebhookDeliveries(
                now: t0.addingTimeInterval(10), leaseUntil: t0.addingTimeInterval(50), limit: 5, perOrganization: 5)
            #expect(pending.map(\.eventType) == [.keyRegenerated] && pending[0].url == "https://h.example/k")
            // New rows get fresh ids after the copied ones (PostgreSQL's identity sequences were moved).
            let fresh = try await provision(targetStore, "After")
            #expect(fresh.organization.id > orgs.last!.organization.id)
            // A second copy into a non-empty target is refused.
            await #expect(throws: StorageError.self) { try await DataCopier.copy(from: source, to: target) }
        }
    }
}

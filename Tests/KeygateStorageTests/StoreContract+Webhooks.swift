import Foundation
import KeygateCore
import Logging
import SQLKit
import Synchronization
import Testing

@testable import KeygateStorage

@Suite("Storage contract: webhooks")
struct WebhookStoreContractTests {
    @Test(
        "webhooks: an audited change enqueues its event in the same transaction; claims are leased; outcomes; retry; prune",
        arguments: Backend.available)
    func webhookOutbox(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let org = try await provision(store)
            let orgID = org.organization.id
            let all = try await store.insertWebhookEndpoint(
                WebhookEndpoint(id: 0, orgID: orgID, url: "https://a.example/h", events: WebhookEventType.subscribable, enabled: true, createdAt: t0),
                sealedSecret: "v2:k:s1", limit: 3, audit: audit(org))
            let keysOnly = try await store.insertWebhookEndpoint(
                WebhookEndpoint(id: 0, orgID: orgID, url: "https://b.example/h", events: [.keyDeleted], enabled: true, createdAt: t0),
                sealedSecret: "v2:k:s2", limit: 3, audit: audit(org))
            var off = try await store.insertWebhookEndpoint(
                WebhookEndpoint(id: 0, orgID: orgID, url: "https://c.example/h", events: WebhookEventType.subscribable, enabled: true, createdAt: t0),
                sealedSecret: "v2:k:s3", limit: 3, audit: audit(org))
            try await store.updateWebhookEndpoint(orgID: orgID, id: off.id, WebhookEndpointChange(enabled: false), audit: audit(org))
            off.enabled = false
            // The organization's limit (3 here) holds inside the insert's transaction.
            await #expect(throws: KeygateError.conflict("an organization has at most 3 webhook endpoints")) {
                try await store.insertWebhookEndpoint(off, sealedSecret: "v2:k:s4", limit: 3, audit: audit(org))
            }

            // A key edit (audited): one event, delivered to the endpoint that subscribes to it, not to the disabled one.
            let change = KeyChange(
                orgID: orgID, operation: .replace(sealedValue: "v2:k:new", expectedVersion: 1), sessionEffect: .none,
                actor: .provider(name: "p"), at: t0, action: .keyEdited, detail: "edited")
            _ = try await store.applyKeyChange(change)
            // A change that fails (a stale version) rolls its event back with it.
            await #expect(throws: KeygateError.self) { _ = try await store.applyKeyChange(change) }
            #expect(try await store.webhookDeliveries(endpointID: all.id, limit: 10).map(\.eventType) == [.keyEdited])
            #expect(try await store.webhookDeliveries(endpointID: keysOnly.id, limit: 10).isEmpty)
            #expect(try await store.webhookDeliveries(endpointID: off.id, limit: 10).isEmpty)

            // Claimed under a lease: a second claim before it ends gets nothing; the attempt is counted.
            let jobs = try await store.claimWebhookDeliveries(now: t0, leaseUntil: t0.addingTimeInterval(40), limit: 10, perOrganization: 10)
            #expect(jobs.map(\.url) == ["https://a.example/h"] && jobs[0].attempt == 1 && jobs[0].eventType == .keyEdited)
            #expect(jobs[0].payload.contains(#""type":"key.edited""#) && !jobs[0].payload.contains("v2:k:new"))
            #expect(
                try await store.claimWebhookDeliveries(
                    now: t0.addingTimeInterval(10), leaseUntil: t0.addingTimeInterval(50), limit: 10, perOrganization: 10
                ).isEmpty)
            // A lease that ran out (a server died mid-send) is claimed again: at least once.
            let again = try await store.claimWebhookDeliveries(
                now: t0.addingTimeInterval(41), leaseUntil: t0.addingTimeInterval(90), limit: 10, perOrganization: 10)
            #expect(again.map(\.deliveryID) == jobs.map(\.deliveryID) && again[0].attempt == 2)
            // While attempt 2 is being sent, no manual retry frees it, and attempt 1's late outcome changes nothing.
            #expect(try await store.retryWebhookDelivery(endpointID: all.id, id: again[0].deliveryID, at: t0.addingTimeInterval(42)) == false)
            _ = try await store.completeWebhookDelivery(
                id: jobs[0].deliveryID, attempt: 1,
                outcome: WebhookAttempt(
                    at: t0.addingTimeInterval(42), statusCode: 200, error: nil, durationMs: 1, delivered: true, nextAttemptAt: nil,
                    endpoint: .unchanged))
            #expect(try await store.webhookDeliveries(endpointID: all.id, limit: 10)[0].status == .pending)
            _ = try await store.completeWebhookDelivery(
                id: again[0].deliveryID, attempt: 2,
                outcome: WebhookAttempt(
                    at: t0.addingTimeInterval(42), statusCode: 500, error: "500", durationMs: 3, delivered: false, nextAttemptAt: nil,
                    endpoint: .unchanged))
            var log = try await store.webhookDeliveries(endpointID: all.id, limit: 10)
            #expect(log[0].status == .failed && log[0].attempts == 2 && log[0].lastStatusCode == 500)
            #expect(
                try await store.claimWebhookDeliveries(
                    now: t0.addingTimeInterval(100), leaseUntil: t0.addingTimeInterval(140), limit: 10, perOrganization: 10
                ).isEmpty)
            // A manual retry makes it due; delivered ones are not sent again.
            #expect(try await store.retryWebhookDelivery(endpointID: all.id, id: log[0].id, at: t0.addingTimeInterval(200)) == true)
            let retried = try await store.claimWebhookDeliveries(
                now: t0.addingTimeInterval(200), leaseUntil: t0.addingTimeInterval(240), limit: 10, perOrganization: 10)
            _ = try await store.completeWebhookDelivery(
                id: retried[0].deliveryID, attempt: retried[0].attempt,
                outcome: WebhookAttempt(
                    at: t0.addingTimeInterval(201), statusCode: 204, error: nil, durationMs: 2, delivered: true, nextAttemptAt: nil,
                    endpoint: .unchanged))
            log = try await store.webhookDeliveries(endpointID: all.id, limit: 10)
            #expect(log[0].status == .delivered && log[0].attempts == 3)
            #expect(try await store.retryWebhookDelivery(endpointID: all.id, id: log[0].id, at: t0.addingTimeInterval(300)) == false)
            // Another endpoint's delivery, or none at all: not found (nil), which the use case answers 404.
            #expect(try await store.retryWebhookDelivery(endpointID: keysOnly.id, id: log[0].id, at: t0.addingTimeInterval(300)) == nil)
            #expect(try await store.retryWebhookDelivery(endpointID: all.id, id: 987_654, at: t0.addingTimeInterval(300)) == nil)

            // Secrets: a roll keeps the old one signing until its time; pruning forgets finished deliveries.
            try await store.rollWebhookSecret(
                orgID: orgID, id: all.id, sealedSecret: "v2:k:s1b", previousUntil: t0.addingTimeInterval(3600), audit: audit(org))
            #expect(try await store.webhookSecrets(endpointID: all.id, at: t0) == ["v2:k:s1b", "v2:k:s1"])
            #expect(try await store.webhookSecrets(endpointID: all.id, at: t0.addingTimeInterval(3601)) == ["v2:k:s1b"])
            #expect(try await store.pruneWebhookLog(before: t0.addingTimeInterval(100)) == 0)
            #expect(try await store.pruneWebhookLog(before: t0.addingTimeInterval(1000)) == 1)
            #expect(try await store.webhookDeliveries(endpointID: all.id, limit: 10).isEmpty)
            #expect(try await store.deleteWebhookEndpoint(orgID: orgID, id: all.id, audit: audit(org)))
            #expect(!(try await store.deleteWebhookEndpoint(orgID: orgID, id: all.id, audit: audit(org))))
            #expect(try await store.webhookEndpoints(orgID: orgID).map(\.id) == [keysOnly.id, off.id])
            // Six simultaneous inserts against a limit of 4 (2 exist): exactly two get in.
            let results = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<6 {
                    group.addTask {
                        let draft = WebhookEndpoint(
                            id: 0, orgID: orgID, url: "https://\(i).example/h", events: [.keyAdded], enabled: true, createdAt: t0)
                        return (try? await store.insertWebhookEndpoint(draft, sealedSecret: "v2:k:x", limit: 4, audit: audit(org))) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 2)
            #expect(try await store.webhookEndpoints(orgID: orgID).count == 4)
        }
    }
}

import Foundation
import KeygateCore
import Logging
import SQLKit
import Synchronization
import Testing

@testable import KeygateStorage

/// A backend the contract runs against. Each test gets a fresh, migrated database.
///
/// PostgreSQL joins when `KEYGATE_TEST_POSTGRES_URL` names a server (an account allowed to create databases);
/// `scripts/test` always starts a throwaway cluster and sets it, so every run covers both backends.
enum Backend: String, CaseIterable, CustomTestStringConvertible {
    case sqliteFile
    case sqliteMemory
    case postgres

    var testDescription: String { rawValue }

    static let postgresURL = ProcessInfo.processInfo.environment["KEYGATE_TEST_POSTGRES_URL"]

    /// The backends this run can reach.
    static var available: [Backend] { postgresURL == nil ? [.sqliteFile, .sqliteMemory] : allCases }

    /// A fresh, empty database: its URL (open it as often as a test needs processes) and its removal.
    func create() async throws -> (url: String, cleanup: @Sendable () async -> Void) {
        switch self {
        case .sqliteFile:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keygate-test-\(UUID().uuidString)")
            return (dir.appendingPathComponent("k.sqlite").path, { try? FileManager.default.removeItem(at: dir) })
        case .sqliteMemory:
            return (":memory:", {})
        case .postgres:
            let adminURL = try #require(Self.postgresURL)
            let name = "kg_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try await Storage.withDatabase(url: adminURL, logger: Logger.quiet("test"), migrate: false) { admin, _ in
                try await admin.read { try await $0.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
            }
            var components = try #require(URLComponents(string: adminURL))
            components.path = "/" + name
            return (
                try #require(components.string),
                {
                    try? await Storage.withDatabase(url: adminURL, logger: Logger.quiet("test"), migrate: false) { admin, _ in
                        _ = try? await admin.read { try await $0.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run() }
                    }
                }
            )
        }
    }

}

/// Runs `body` with a fresh store on `backend`, closing and removing it afterwards.
func withStore(_ backend: Backend, _ body: (any DatabaseHandle, SQLKeygateStore) async throws -> Void) async throws {
    let (url, cleanup) = try await backend.create()
    do {
        try await Storage.withDatabase(url: url, logger: Logger.quiet("test")) { db, store in try await body(db, store) }
        await cleanup()
    } catch {
        // PSQLError's description is deliberately generic; the reflection says which statement failed and why.
        if backend == .postgres { print("postgres error:", String(reflecting: error)) }
        await cleanup()
        throw error
    }
}

let t0 = Date(timeIntervalSince1970: 1_795_749_071)

/// Sends `count` simultaneous ``WindowCounters/acquire(_:)`` calls; returns how many were counted.
func simultaneousAcquires(_ counters: some WindowCounters, _ buckets: [CounterBucket], count: Int) async -> Int {
    await withTaskGroup(of: Bool.self) { group in
        for _ in 0..<count { group.addTask { (try? await counters.acquire(buckets)) == .some(nil) } }
        return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
    }
}

/// Provisions an organization with a key whose sealed text is `sealed-<org>`.
func provision(_ store: SQLKeygateStore, _ name: String = "Acme", key: Bool = true) async throws -> ProvisionedOrganization {
    try await store.createOrganization(
        name: name, superAdmin: NewAdmin(loginName: "Root@\(name)", userName: "Root", email: "r@x", passwordHash: "hash"),
        sealKey: key ? { @Sendable in "sealed-\($0)" } : nil, at: t0)
}

func session(_ token: String, _ org: ProvisionedOrganization, version: Int64 = 1, kind: SessionKind = .ztw, at: Date = t0) -> APISession {
    APISession(
        tokenHash: token, orgID: org.organization.id, adminID: org.admin.id, keyID: org.key?.id ?? 0, keyVersion: version,
        kind: kind, createdAt: at, lastSeenAt: at)
}

func audit(_ org: ProvisionedOrganization, _ action: AuditAction = .adminUpdated) -> AuditEvent {
    AuditEvent(orgID: org.organization.id, at: t0, actor: .provider(name: "p"), action: action, detail: "")
}

func change(_ org: ProvisionedOrganization, _ op: KeyChange.Operation, _ effect: KeyChange.SessionEffect = .none, action: AuditAction = .keyEdited)
    -> KeyChange
{
    KeyChange(
        orgID: org.organization.id, operation: op, sessionEffect: effect, actor: .admin(id: org.admin.id, name: "Root"), at: t0.addingTimeInterval(5),
        action: action, detail: "d")
}

@Suite("Storage contract")
struct StoreContractTests {
    @Test("migrations are recorded once and re-running applies nothing", arguments: Backend.available)
    func migrations(_ backend: Backend) async throws {
        try await withStore(backend) { db, _ in
            #expect(try await Migrations.run(on: db).isEmpty)
            let count = try await db.read {
                try await $0.raw("SELECT COUNT(*) AS n FROM schema_migrations").first()!.decode(column: "n", as: Int.self)
            }
            #expect(count == Migrations.latestVersion)
        }
    }

    @Test("a database migrated by a newer Keygate is refused", arguments: Backend.available)
    func schemaTooNew(_ backend: Backend) async throws {
        try await withStore(backend) { db, _ in
            try await db.transaction(announcing: .nothing) {
                try await $0.raw("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)").run()
            }
            await #expect(throws: StorageError.self) { try await Migrations.run(on: db) }
        }
    }

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

    @Test("sessions: replay refused with nothing stored, snapshot joins admin, role and key, touch and delete", arguments: Backend.available)
    func sessions(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let org = try await provision(store)
            #expect(
                try await store.createSession(session("s1", org), replayDigest: "same", replayExpiresAt: t0, audit: audit(org, .sessionCreated)))
            #expect(
                !(try await store.createSession(session("s2", org), replayDigest: "same", replayExpiresAt: t0, audit: audit(org, .sessionCreated))))
            #expect(try await store.sessionSnapshot(tokenHash: "s2") == nil)
            #expect(try await store.sealedKey(orgID: org.organization.id)?.lastUsedAt == t0)
            let snap = try #require(try await store.sessionSnapshot(tokenHash: "s1"))
            #expect(snap.admin.loginName == "Root@Acme" && snap.role.name == "Super Admin")
            #expect(snap.keyID == org.key?.id && snap.keyVersion == 1 && snap.keyEnabled)
            try await store.touchSession(tokenHash: "s1", at: t0.addingTimeInterval(100))
            #expect(try await store.sessionSnapshot(tokenHash: "s1")?.session.lastSeenAt == t0.addingTimeInterval(100))
            #expect(try await store.deleteSession(tokenHash: "s1", audit: audit(org, .sessionEnded)))
            #expect(!(try await store.deleteSession(tokenHash: "s1", audit: nil)))
            #expect(
                try await store.auditEvents(orgID: org.organization.id, actionPrefix: "session.", limit: 10).map(\.action) == [
                    "session.ended", "session.created",
                ])
        }
    }

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
            off.enabled = false
            try await store.updateWebhookEndpoint(off, audit: audit(org))
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
            let jobs = try await store.claimWebhookDeliveries(now: t0, leaseUntil: t0.addingTimeInterval(40), limit: 10)
            #expect(jobs.map(\.url) == ["https://a.example/h"] && jobs[0].attempt == 1 && jobs[0].eventType == .keyEdited)
            #expect(jobs[0].payload.contains(#""type":"key.edited""#) && !jobs[0].payload.contains("v2:k:new"))
            #expect(try await store.claimWebhookDeliveries(now: t0.addingTimeInterval(10), leaseUntil: t0.addingTimeInterval(50), limit: 10).isEmpty)
            // A lease that ran out (a server died mid-send) is claimed again: at least once.
            let again = try await store.claimWebhookDeliveries(now: t0.addingTimeInterval(41), leaseUntil: t0.addingTimeInterval(90), limit: 10)
            #expect(again.map(\.deliveryID) == jobs.map(\.deliveryID) && again[0].attempt == 2)
            // While attempt 2 is being sent, no manual retry frees it, and attempt 1's late outcome changes nothing.
            #expect(!(try await store.retryWebhookDelivery(endpointID: all.id, id: again[0].deliveryID, at: t0.addingTimeInterval(42))))
            try await store.completeWebhookDelivery(
                id: jobs[0].deliveryID, attempt: 1,
                outcome: WebhookAttempt(
                    at: t0.addingTimeInterval(42), statusCode: 200, error: nil, durationMs: 1, delivered: true, nextAttemptAt: nil))
            #expect(try await store.webhookDeliveries(endpointID: all.id, limit: 10)[0].status == .pending)
            try await store.completeWebhookDelivery(
                id: again[0].deliveryID, attempt: 2,
                outcome: WebhookAttempt(
                    at: t0.addingTimeInterval(42), statusCode: 500, error: "500", durationMs: 3, delivered: false, nextAttemptAt: nil))
            var log = try await store.webhookDeliveries(endpointID: all.id, limit: 10)
            #expect(log[0].status == .failed && log[0].attempts == 2 && log[0].lastStatusCode == 500)
            #expect(
                try await store.claimWebhookDeliveries(now: t0.addingTimeInterval(100), leaseUntil: t0.addingTimeInterval(140), limit: 10).isEmpty)
            // A manual retry makes it due; delivered ones are not sent again.
            #expect(try await store.retryWebhookDelivery(endpointID: all.id, id: log[0].id, at: t0.addingTimeInterval(200)))
            let retried = try await store.claimWebhookDeliveries(now: t0.addingTimeInterval(200), leaseUntil: t0.addingTimeInterval(240), limit: 10)
            try await store.completeWebhookDelivery(
                id: retried[0].deliveryID, attempt: retried[0].attempt,
                outcome: WebhookAttempt(
                    at: t0.addingTimeInterval(201), statusCode: 204, error: nil, durationMs: 2, delivered: true, nextAttemptAt: nil))
            log = try await store.webhookDeliveries(endpointID: all.id, limit: 10)
            #expect(log[0].status == .delivered && log[0].attempts == 3)
            #expect(!(try await store.retryWebhookDelivery(endpointID: all.id, id: log[0].id, at: t0.addingTimeInterval(300))))
            #expect(!(try await store.retryWebhookDelivery(endpointID: keysOnly.id, id: log[0].id, at: t0.addingTimeInterval(300))))

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

    @Test("housekeeping removes idle sessions per kind, ended grace and old replay digests", arguments: Backend.available)
    func expiry(_ backend: Backend) async throws {
        try await withStore(backend) { db, store in
            let org = try await provision(store)
            _ = try await store.createSession(session("ztw", org, kind: .ztw), replayDigest: "a", replayExpiresAt: t0, audit: audit(org))
            _ = try await store.createSession(
                session("zia", org, kind: .zia), replayDigest: "b", replayExpiresAt: t0.addingTimeInterval(10_000), audit: audit(org))
            // Live: both at first; 10 minutes on, the ZIA session (5-minute idle) no longer counts, before and after
            // housekeeping removes it.
            #expect(try await store.liveSessionCount(now: t0.addingTimeInterval(60), ztwIdle: 1800, ziaIdle: 300) == 2)
            #expect(try await store.liveSessionCount(now: t0.addingTimeInterval(600), ztwIdle: 1800, ziaIdle: 300) == 1)
            let removed = try await store.deleteExpired(now: t0.addingTimeInterval(600), ztwIdle: 1800, ziaIdle: 300)
            #expect(removed == 1)
            #expect(try await store.liveSessionCount(now: t0.addingTimeInterval(600), ztwIdle: 1800, ziaIdle: 300) == 1)
            #expect(try await store.liveSessionCount(now: t0.addingTimeInterval(3600), ztwIdle: 1800, ziaIdle: 300) == 0)
            #expect(try await store.sessionSnapshot(tokenHash: "ztw") != nil)
            #expect(try await store.sessionSnapshot(tokenHash: "zia") == nil)
            let digests = try await db.read {
                try await $0.raw("SELECT digest FROM login_replays").all().map { try $0.decode(column: "digest", as: String.self) }
            }
            #expect(digests == ["b"])
        }
    }

    @Test("roles: unique names, no delete while held, permissions round-trip", arguments: Backend.available)
    func roles(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let org = try await provision(store)
            let orgID = org.organization.id
            var viewer = try await store.insertRole(
                Role(id: 0, orgID: orgID, name: "Viewer", featurePermissions: ["APIKEY_MANAGEMENT": .readOnly, "POLICY_ACCESS": .none]),
                audit: audit(org))
            #expect(
                try await store.role(orgID: orgID, id: viewer.id)?.featurePermissions == ["APIKEY_MANAGEMENT": .readOnly, "POLICY_ACCESS": .none])
            await #expect(throws: KeygateError.self) {
                try await store.insertRole(Role(id: 0, orgID: orgID, name: "Viewer", featurePermissions: [:]), audit: audit(org))
            }
            viewer.featurePermissions["APIKEY_MANAGEMENT"] = .readWrite
            try await store.updateRole(viewer, audit: audit(org))
            #expect(try await store.role(orgID: orgID, id: viewer.id)?.apiKeyAccess == .readWrite)
            await #expect(throws: KeygateError.self) { try await store.deleteRole(orgID: orgID, id: org.role.id, audit: audit(org)) }
            try await store.deleteRole(orgID: orgID, id: viewer.id, audit: audit(org))
            // Super Admin and the read-only role every organization starts with.
            #expect(try await store.roles(orgID: orgID).map(\.name) == ["Super Admin", Role.readOnlyAdminName])
            // Another organization's role is not visible.
            let other = try await provision(store, "Other")
            #expect(try await store.role(orgID: orgID, id: other.role.id) == nil)
        }
    }

    @Test(
        "an authorization basis that changed before the write fails it with EDIT_LOCK and changes nothing; one that holds lets it through",
        arguments: Backend.available)
    func authorizationBasis(_ backend: Backend) async throws {
        try await withStore(backend) { db, store in
            let org = try await provision(store)
            let orgID = org.organization.id
            let caller = try await store.insertRole(
                Role(id: 0, orgID: orgID, name: "Managers", rank: 5, featurePermissions: ["APIKEY_MANAGEMENT": .readWrite]), audit: audit(org))
            let target = try await store.insertRole(
                Role(id: 0, orgID: orgID, name: "Spare", featurePermissions: ["APIKEY_MANAGEMENT": .readOnly]), audit: audit(org))
            let dana = try await store.insertAdmin(
                Admin(
                    id: 0, orgID: orgID, loginName: "dana", userName: "Dana", email: "", roleID: target.id, passwordHash: "h1", disabled: false,
                    createdAt: t0), audit: audit(org))
            func rows() async throws -> [String] {
                try await db.read { sql in
                    try await sql.raw("SELECT name, rank, permissions FROM roles WHERE org_id = \(bind: orgID) ORDER BY id").all().map {
                        "\(try $0.decode(column: "name", as: String.self)) \(try $0.decode(column: "rank", as: Int.self)) "
                            + (try $0.decode(column: "permissions", as: String.self))
                    }
                        + (try await sql.raw(
                            "SELECT login_name, role_id, disabled, password_hash FROM admins WHERE org_id = \(bind: orgID) ORDER BY id"
                        )
                        .all().map {
                            "\(try $0.decode(column: "login_name", as: String.self)) \(try $0.decode(column: "role_id", as: Int64.self)) "
                                + "\(try $0.decode(column: "disabled", as: Int.self)) \(try $0.decode(column: "password_hash", as: String.self))"
                        })
                }
            }
            // Meanwhile the caller was demoted, the target role raised, Dana moved to Super Admin.
            var demoted = caller
            demoted.rank = 7
            try await store.updateRole(demoted, audit: audit(org))
            var raised = target
            raised.rank = 0
            try await store.updateRole(raised, audit: audit(org))
            var promoted = dana
            promoted.roleID = org.role.id
            try await store.updateAdmin(promoted, endSessions: false, keepSession: nil, audit: audit(org))
            let before = try await rows()
            var reset = dana
            reset.passwordHash = "attacker"
            let stale: [(String, () async throws -> Void)] = [
                (
                    "insert role, caller demoted",
                    {
                        _ = try await store.insertRole(
                            Role(id: 0, orgID: orgID, name: "New", featurePermissions: [:]), audit: audit(org),
                            basis: AuthorizationBasis(roles: [caller]))
                    }
                ),
                (
                    "update role, role raised",
                    {
                        try await store.updateRole(target, audit: audit(org), basis: AuthorizationBasis(roles: [demoted, target]))
                    }
                ),
                (
                    "delete role, role raised",
                    {
                        try await store.deleteRole(
                            orgID: orgID, id: target.id, audit: audit(org), basis: AuthorizationBasis(roles: [demoted, target]))
                    }
                ),
                (
                    "reset an admin promoted meanwhile",
                    {
                        try await store.updateAdmin(
                            reset, endSessions: true, keepSession: nil, audit: audit(org), basis: AuthorizationBasis(roles: [demoted], admin: dana))
                    }
                ),
                (
                    "delete an admin promoted meanwhile",
                    {
                        try await store.deleteAdmin(
                            orgID: orgID, id: dana.id, audit: audit(org), basis: AuthorizationBasis(roles: [demoted], admin: dana))
                    }
                ),
                (
                    "insert an admin with a role raised meanwhile",
                    {
                        var sock = dana
                        sock.loginName = "sock"
                        _ = try await store.insertAdmin(sock, audit: audit(org), basis: AuthorizationBasis(roles: [demoted, target]))
                    }
                ),
            ]
            for (what, write) in stale {
                await #expect(throws: KeygateError.editLockNotAvailable, "\(what)") { try await write() }
                #expect(try await rows() == before, "\(what) changed something")
            }
            // The same writes on what is really stored go through.
            var renamed = raised
            renamed.name = "Spare 2"
            try await store.updateRole(renamed, audit: audit(org), basis: AuthorizationBasis(roles: [demoted, raised]))
            var resetNow = promoted
            resetNow.passwordHash = "h2"
            try await store.updateAdmin(
                resetNow, endSessions: false, keepSession: nil, audit: audit(org), basis: AuthorizationBasis(roles: [demoted], admin: promoted))
            #expect(try await rows() != before)
        }
    }

    @Test("admins: login names unique across organizations case-insensitively, session effects on update and delete", arguments: Backend.available)
    func admins(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let org = try await provision(store)
            let orgID = org.organization.id
            let draft = Admin(
                id: 0, orgID: orgID, loginName: "ann", userName: "Ann", email: "", roleID: org.role.id, passwordHash: "h", createdAt: t0)
            var ann = try await store.insertAdmin(draft, audit: audit(org))
            var dup = draft
            dup.loginName = "ANN"
            await #expect(throws: KeygateError.self) { try await store.insertAdmin(dup, audit: audit(org)) }
            // Not in another organization either: an API login must name exactly one account.
            let other = try await provision(store, "Other")
            var elsewhere = draft
            elsewhere.orgID = other.organization.id
            elsewhere.roleID = other.role.id
            await #expect(throws: KeygateError.conflict("the login name ann is already in use")) {
                try await store.insertAdmin(elsewhere, audit: audit(other))
            }
            #expect(try await store.loginCandidates(loginName: "Ann").count == 1)

            func annSession(_ token: String) -> APISession {
                APISession(
                    tokenHash: token, orgID: orgID, adminID: ann.id, keyID: org.key!.id, keyVersion: 1, kind: .ztw, createdAt: t0, lastSeenAt: t0)
            }
            _ = try await store.createSession(annSession("a1"), replayDigest: "1", replayExpiresAt: t0, audit: audit(org))
            _ = try await store.createSession(annSession("a2"), replayDigest: "2", replayExpiresAt: t0, audit: audit(org))
            ann.userName = "Ann B"
            // Each change reports the API sessions it ended (the metrics count them).
            #expect(try await store.updateAdmin(ann, endSessions: true, keepSession: "a2", audit: audit(org)) == 1)
            #expect(try await store.sessionSnapshot(tokenHash: "a1") == nil)
            #expect(try await store.sessionSnapshot(tokenHash: "a2")?.admin.userName == "Ann B")
            #expect(try await store.updateAdmin(ann, endSessions: false, keepSession: nil, audit: audit(org)) == 0)
            // An id from another organization deletes nothing and ends nothing.
            #expect(try await store.deleteAdmin(orgID: other.organization.id, id: ann.id, audit: audit(other)) == 0)
            #expect(try await store.sessionSnapshot(tokenHash: "a2") != nil)
            #expect(try await store.deleteAdmin(orgID: orgID, id: ann.id, audit: audit(org)) == 1)
            #expect(try await store.sessionSnapshot(tokenHash: "a2") == nil)
            #expect(try await store.admins(orgID: orgID).map(\.loginName) == ["Root@Acme"])
        }
    }

    @Test(
        "portal sessions: snapshot with admin, role and organization; touch, sign-out, idle purge, gone with the admin; preferences",
        arguments: Backend.available)
    func portalSessions(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let org = try await provision(store)
            let p1 = PortalSession(tokenHash: "p1", adminID: org.admin.id, orgID: org.organization.id, createdAt: t0, lastSeenAt: t0)
            var p2 = p1
            p2.tokenHash = "p2"
            try await store.createPortalSessions([p1, p2], audits: [audit(org, .portalSignedIn)])
            let snapshot = try #require(try await store.portalSnapshot(tokenHash: "p1"))
            #expect(snapshot.session == p1 && snapshot.admin.id == org.admin.id && snapshot.role.id == org.role.id)
            #expect(snapshot.organizationName == "Acme")
            #expect(try await store.portalSnapshot(tokenHash: "nope") == nil)
            // A browser's tokens in one read; unknown ones are simply absent.
            let batch = try await store.portalSnapshots(tokenHashes: ["p2", "nope", "p1"])
            #expect(Set(batch.map(\.session.tokenHash)) == ["p1", "p2"])
            #expect(try await store.portalSnapshots(tokenHashes: []).isEmpty)
            #expect(try await store.auditEvents(orgID: org.organization.id, actionPrefix: "portal.", limit: 5).count == 1)

            try await store.touchPortalSession(tokenHash: "p2", at: t0.addingTimeInterval(600))
            #expect(try await store.deleteIdlePortalSessions(lastSeenBefore: t0.addingTimeInterval(300)) == 1)
            #expect(try await store.portalSnapshot(tokenHash: "p1") == nil)
            #expect(try await store.deletePortalSessions(tokenHashes: ["p2", "unknown"]) == 1)
            #expect(try await store.portalSnapshot(tokenHash: "p2") == nil)

            #expect(try await store.adminPreference(adminID: org.admin.id, name: "cols") == nil)
            try await store.setAdminPreference(adminID: org.admin.id, name: "cols", value: "key,status")
            try await store.setAdminPreference(adminID: org.admin.id, name: "cols", value: "status")
            #expect(try await store.adminPreference(adminID: org.admin.id, name: "cols") == "status")

            // Deleting the admin takes their portal sessions and preferences along.
            let draft = Admin(
                id: 0, orgID: org.organization.id, loginName: "bob", userName: "Bob", email: "", roleID: org.role.id, passwordHash: "h",
                createdAt: t0)
            let bob = try await store.insertAdmin(draft, audit: audit(org))
            try await store.createPortalSessions(
                [PortalSession(tokenHash: "b", adminID: bob.id, orgID: org.organization.id, createdAt: t0, lastSeenAt: t0)], audits: [])
            try await store.setAdminPreference(adminID: bob.id, name: "cols", value: "key")
            try await store.deleteAdmin(orgID: org.organization.id, id: bob.id, audit: audit(org))
            #expect(try await store.portalSnapshot(tokenHash: "b") == nil)
            #expect(try await store.adminPreference(adminID: bob.id, name: "cols") == nil)
        }
    }

    @Test("provider operators: unique login names, sessions with touch, sign-out and idle purge", arguments: Backend.available)
    func providerOperators(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let op = try await store.insertOperator(ProviderOperator(id: 0, loginName: "Ops", passwordHash: "h", createdAt: t0))
            #expect(op.id > 0)
            await #expect(throws: KeygateError.self) {
                _ = try await store.insertOperator(ProviderOperator(id: 0, loginName: "OPS", passwordHash: "h", createdAt: t0))
            }
            #expect(try await store.providerOperator(loginName: "ops")?.id == op.id)
            #expect(try await store.providerOperators().map(\.loginName) == ["Ops"])
            try await store.createOperatorSession(tokenHash: "s1", operatorID: op.id, at: t0)
            try await store.createOperatorSession(tokenHash: "s2", operatorID: op.id, at: t0)
            #expect(try await store.operatorSession(tokenHash: "s1")?.0.id == op.id)
            try await store.touchOperatorSession(tokenHash: "s2", at: t0.addingTimeInterval(100))
            #expect(try await store.operatorSession(tokenHash: "s2")?.lastSeenAt == t0.addingTimeInterval(100))
            #expect(try await store.deleteOperatorSessions(tokenHashes: [], idleBefore: t0.addingTimeInterval(50)) == 1)
            #expect(try await store.operatorSession(tokenHash: "s1") == nil)
            #expect(try await store.deleteOperatorSessions(tokenHashes: ["s2"], idleBefore: nil) == 1)
            // Disabling ends the operator's sessions; enabling brings none back.
            try await store.createOperatorSession(tokenHash: "s3", operatorID: op.id, at: t0)
            #expect(try await store.setOperatorDisabled(loginName: "OPS", disabled: true))
            #expect(try await store.operatorSession(tokenHash: "s3") == nil)
            #expect(try await store.providerOperator(loginName: "ops")?.disabled == true)
            #expect(try await store.setOperatorDisabled(loginName: "ops", disabled: false))
            #expect(try await store.providerOperator(loginName: "ops")?.disabled == false)
            #expect(try await store.setOperatorDisabled(loginName: "nobody", disabled: true) == false)
        }
    }

    @Test("audit: newest first, literal prefix filter, limit", arguments: Backend.available)
    func auditTrail(_ backend: Backend) async throws {
        try await withStore(backend) { db, store in
            let org = try await provision(store)
            for name in ["ke\u{301}y.x", "key.added", "key%x", "session.created", "key_y", "key.deleted"] {
                if let action = AuditAction(rawValue: name) {
                    try await store.appendAudit(audit(org, action))
                } else {
                    // Names no action has: rows an older version wrote are read back as they are, filtered literally.
                    try await db.transaction(announcing: .nothing) { sql in
                        try await sql.raw(
                            """
                            INSERT INTO audit_events (org_id, at, actor_kind, actor_id, actor_name, action, detail)
                            VALUES (\(bind: org.organization.id), 0, 'provider', NULL, 'p', \(bind: name), '')
                            """
                        ).run()
                    }
                }
            }
            #expect(
                try await store.auditEvents(orgID: org.organization.id, actionPrefix: "key.", limit: 10).map(\.action) == [
                    "key.deleted", "key.added",
                ])
            #expect(try await store.auditEvents(orgID: org.organization.id, actionPrefix: "key%", limit: 10).map(\.action) == ["key%x"])
            // A prefix with a combining accent: the database counts code points, not Swift's characters.
            #expect(try await store.auditEvents(orgID: org.organization.id, actionPrefix: "ke\u{301}", limit: 10).map(\.action) == ["ke\u{301}y.x"])
            #expect(try await store.auditEvents(orgID: org.organization.id, actionPrefix: nil, limit: 2).map(\.action) == ["key.deleted", "key_y"])
            let other = try await provision(store, "Other")
            #expect(try await store.auditEvents(orgID: other.organization.id, actionPrefix: "key", limit: 10).isEmpty)
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
                now: t0.addingTimeInterval(10), leaseUntil: t0.addingTimeInterval(50), limit: 5)
            #expect(pending.map(\.eventType) == [.keyRegenerated] && pending[0].url == "https://h.example/k")
            // New rows get fresh ids after the copied ones (PostgreSQL's identity sequences were moved).
            let fresh = try await provision(targetStore, "After")
            #expect(fresh.organization.id > orgs.last!.organization.id)
            // A second copy into a non-empty target is refused.
            await #expect(throws: StorageError.self) { try await DataCopier.copy(from: source, to: target) }
        }
    }

    @Test("a second connection to the same file (another process, e.g. the CLI) sees changes at once")
    func sharedFile() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keygate-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("k.sqlite").path
        try await Storage.withDatabase(url: path, logger: Logger.quiet("a")) { _, store1 in
            try await Storage.withDatabase(url: "sqlite:" + path, logger: Logger.quiet("b")) { _, store2 in
                let org = try await provision(store1)
                _ = try await store2.applyKeyChange(change(org, .setEnabled(false, expectedVersion: 1), .endAll))
                #expect(try await store1.sealedKey(orgID: org.organization.id)?.enabled == false)
            }
        }
    }

    @Test(
        "PostgreSQL over TLS when the URL asks: require encrypts, verify-full checks the certificate",
        .enabled(if: ProcessInfo.processInfo.environment["KEYGATE_TEST_POSTGRES_CA"] != nil))
    func postgresTLS() async throws {
        let plain = try #require(Backend.postgresURL)
        let ca = try #require(ProcessInfo.processInfo.environment["KEYGATE_TEST_POSTGRES_CA"])
        func encrypted(_ url: String) async throws -> Bool {
            try await Storage.withDatabase(url: url, logger: Logger.quiet("tls"), migrate: false) { db, _ in
                try await db.read { sql in
                    try await sql.raw("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first()?.decode(column: "ssl", as: Bool.self)
                } == true
            }
        }
        #expect(try await encrypted(plain) == false)
        let tls = plain.replacingOccurrences(of: "sslmode=disable", with: "sslmode=require")
        #expect(try await encrypted(tls))
        let verified = plain.replacingOccurrences(of: "sslmode=disable", with: "sslmode=verify-full&sslrootcert=\(ca)")
        #expect(try await encrypted(verified))
        // The system roots do not know the test CA: verification must fail, not fall back to plain text.
        let unverifiable = plain.replacingOccurrences(of: "sslmode=disable", with: "sslmode=verify-full&connectTimeout=3")
        await #expect(throws: StorageError.self) { _ = try await encrypted(unverifiable) }
    }

    @Test("malformed database URLs and unreachable servers are clear errors")
    func badURLs() async {
        for url in ["postgres://", "postgres://u@h/db?sslmode=sometimes", "postgres://u@h/db?pool=0", "sqlite:"] {
            await #expect(throws: StorageError.self, "\(url)") {
                try await Storage.withDatabase(url: url, logger: Logger.quiet("t")) { _, _ in Issue.record("\(url) opened") }
            }
        }
        await #expect(throws: StorageError.self) {
            // Port 1 on loopback: nothing listens there.
            try await Storage.withDatabase(url: "postgres://keygate@127.0.0.1:1/db?sslmode=disable&connectTimeout=2", logger: Logger.quiet("t")) {
                _, _ in Issue.record("port 1 answered")
            }
        }
    }
}

extension Logger {
    /// A test logger at `warning`: the cases that expect connection failures (unreachable server, refused TLS)
    /// would otherwise fill the output with the driver's `info` lines about them.
    static func quiet(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        return logger
    }
}

@Suite("Renames under concurrency")
struct ConcurrentRenameTests {
    @Test("two simultaneous renames to one free login name: one wins, the other is a 409, never another error", arguments: Backend.available)
    func loginNames(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let a = try await provision(store, "Alpha")
            let b = try await provision(store, "Bravo")
            for round in 0..<5 {
                let wanted = "taken\(round)@corp"
                let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                    for org in [a, b] {
                        group.addTask {
                            var admin = org.admin
                            admin.loginName = wanted
                            do {
                                try await store.updateAdmin(admin, endSessions: false, keepSession: nil, audit: audit(org))
                                return "renamed"
                            } catch KeygateError.conflict {
                                return "conflict"
                            }
                        }
                    }
                    return try await group.reduce(into: [String]()) { $0.append($1) }.sorted()
                }
                #expect(outcomes == ["conflict", "renamed"], "round \(round)")
                #expect(try await store.loginCandidates(loginName: wanted).count == 1)
            }
        }
    }
}

@Suite("Migration 6: login names unique across organizations")
struct LoginNameMigrationTests {
    @Test(
        "existing duplicates are renamed (oldest keeps its name), audited, then the name is unique; Super Admin manages admins",
        arguments: Backend.available)
    func dedup(_ backend: Backend) async throws {
        try await withStore(backend) { db, store in
            let a = try await provision(store, "Alpha")
            let b = try await provision(store, "Bravo")
            // Put the database back to schema 5, where one login name could live in two organizations.
            try await db.transaction(announcing: .nothing) { sql in
                try await sql.raw("DROP INDEX admins_login_key_unique").run()
                try await sql.raw("CREATE INDEX admins_login_key ON admins (login_key)").run()
                try await sql.raw("DELETE FROM schema_migrations WHERE version = 6").run()
                try await sql.raw(
                    "UPDATE admins SET login_name = 'Root@Alpha', login_key = 'root@alpha' WHERE id = \(bind: b.admin.id)"
                ).run()
                try await sql.raw("UPDATE roles SET permissions = '{\"APIKEY_MANAGEMENT\":\"READ_WRITE\"}' WHERE is_non_editable = 1").run()
            }
            #expect(try await store.loginCandidates(loginName: "root@alpha").count == 2)
            #expect(try await Migrations.run(on: db) == [6])
            #expect(try await store.admin(orgID: a.organization.id, id: a.admin.id)?.loginName == "Root@Alpha")
            let renamed = "Root@Alpha.org\(b.organization.id)"
            #expect(try await store.admin(orgID: b.organization.id, id: b.admin.id)?.loginName == renamed)
            let events = try await store.auditEvents(orgID: b.organization.id, actionPrefix: "admin.renamed", limit: 10)
            #expect(events.count == 1 && events[0].detail.contains(renamed))
            #expect(try await store.loginCandidates(loginName: "root@alpha").count == 1)
            #expect(try await store.role(orgID: a.organization.id, id: a.role.id)?.adminAccess == .readWrite)
        }
    }
}

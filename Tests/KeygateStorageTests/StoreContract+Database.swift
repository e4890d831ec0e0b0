import Foundation
import KeygateCore
import Logging
import SQLKit
import Synchronization
import Testing

@testable import KeygateStorage

@Suite("Storage contract: the database (migrations, URLs, processes)")
struct DatabaseContractTests {
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

@Suite("Migration 12: webhook health, fair delivery, no URLs in the trail")
struct WebhookHealthMigrationTests {
    @Test("deliveries get their organization; endpoint URLs written by older versions leave the audit trail", arguments: Backend.available)
    func migrate(_ backend: Backend) async throws {
        try await withStore(backend) { db, store in
            let org = try await provision(store)
            let hook = try await store.insertWebhookEndpoint(
                WebhookEndpoint(id: 0, orgID: org.organization.id, url: "https://h.example/k", events: [.keyAdded], enabled: true, createdAt: t0),
                sealedSecret: "v2:k:s", limit: 5, audit: audit(org, .webhookCreated))
            let delivery = try await store.enqueueWebhookTest(endpoint: hook, payload: "{}", eventID: WebhookPayload.newEventID(), at: t0)
            // Back to schema 11: no organization on deliveries, and a URL with a token in the trail.
            try await db.transaction(announcing: .nothing) { sql in
                try await sql.raw("DROP INDEX webhook_deliveries_leased").run()
                for column in ["org_id"] { try await sql.raw("ALTER TABLE webhook_deliveries DROP COLUMN \(unsafeRaw: column)").run() }
                for column in ["disabled_reason", "failing_since"] {
                    try await sql.raw("ALTER TABLE webhook_endpoints DROP COLUMN \(unsafeRaw: column)").run()
                }
                try await sql.raw("DELETE FROM schema_migrations WHERE version = 12").run()
                try await sql.raw(
                    "UPDATE audit_events SET detail = 'webhook endpoint https://h.example/k?token=s3cr3t' WHERE action = 'webhook.created'"
                ).run()
            }
            #expect(try await Migrations.run(on: db) == [12])
            let trail = try await store.auditEvents(orgID: org.organization.id, actionPrefix: "webhook.created", limit: 5)
            #expect(trail.count == 1 && !trail[0].detail.contains("s3cr3t") && !trail[0].detail.contains("h.example"))
            let job = try #require(
                try await store.claimWebhookDeliveries(now: t0, leaseUntil: t0.addingTimeInterval(60), limit: 5, perOrganization: 5).first)
            #expect(job.deliveryID == delivery && job.orgID == org.organization.id)
            let stored = try await db.read { sql in
                try await sql.raw("SELECT org_id FROM webhook_deliveries WHERE id = \(bind: delivery)").first()?.decode(
                    column: "org_id", as: Int64.self)
            }
            #expect(stored == org.organization.id)
        }
    }
}

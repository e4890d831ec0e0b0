import Foundation
import KeygateCore
import Logging
import SQLKit
import Testing

@testable import KeygateStorage

/// What a million organizations need of every backend: an index-served name search with a capped count, id paging,
/// bulk import and export, housekeeping in batches, and a change log that tells a lagging reader it lagged.
@Suite("Storage contract at scale")
struct ScaleContractTests {
    static let names = ["Acme", "acme eu", "ACME_US", "Acmes", "Acm%", "Beta", "Ärzte Nord", "ärzte süd", "Zulu"]

    @Test("the console's search: name prefix, case-insensitive, LIKE characters taken literally, a capped count", arguments: Backend.available)
    func search(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            for name in Self.names { _ = try await provision(store, name) }
            func found(_ prefix: String) async throws -> [String] {
                try await store.organizationSummaries(namePrefix: prefix, offset: 0, limit: 100).map(\.organization.name)
            }
            #expect(try await found("acme") == ["acme eu", "Acme", "Acmes", "ACME_US"].sorted { $0.lowercased() < $1.lowercased() })
            #expect(try await found("ACME_") == ["ACME_US"], "_ is a character, not a wildcard")
            #expect(try await found("acm%") == ["Acm%"], "% is a character, not a wildcard")
            #expect(try await found("ärzte") == ["Ärzte Nord", "ärzte süd"])
            #expect(try await found("zz").isEmpty)
            #expect(try await found("").count == Self.names.count)
            #expect(try await store.countOrganizations(namePrefix: "acme", cap: 100) == 4)
            #expect(try await store.countOrganizations(namePrefix: "", cap: 3) == 3, "the count stops at its cap")
            let second = try await store.organizationSummaries(namePrefix: "", offset: 2, limit: 2).map(\.organization.name)
            let all = try await found("")
            #expect(second == Array(all[2..<4]))
            let byID = try await store.organizationSummaries(afterID: 2, limit: 3).map(\.organization.id)
            #expect(byID == [3, 4, 5])
        }
    }

    @Test(
        "import: existing names skipped, taken logins refused, the rest created whole with key and audit; export pages", arguments: Backend.available)
    func importAndExport(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let existing = try await provision(store, "Existing")
            func row(_ name: String, _ login: String) -> NewOrganization {
                NewOrganization(
                    name: name, superAdmin: NewAdmin(loginName: login, userName: login, email: "", passwordHash: "hash-\(login)"),
                    key: APIKeyValue.generate())
            }
            let outcomes = try await store.importOrganizations(
                [row("New One", "one"), row("Existing", "other"), row("Login Taken", existing.admin.loginName.uppercased()), row("New Two", "two")],
                sealKey: { id, key in "sealed-\(id)-\(key.rawValue)" }, operator: "ops", at: t0)
            guard case .created(let one) = outcomes[0], case .created(let two) = outcomes[3] else {
                Issue.record("\(outcomes)")
                return
            }
            #expect(outcomes[1] == .existing)
            guard case .failed(let reason) = outcomes[2] else {
                Issue.record("\(outcomes[2])")
                return
            }
            #expect(reason.contains("already in use"))
            #expect(try await store.organization(named: "Login Taken") == nil)
            for id in [one, two] {
                #expect(try await store.sealedKey(orgID: id)?.value.hasPrefix("sealed-\(id)-") == true)
                #expect(try await store.roles(orgID: id).count == 2)
                #expect(try await store.auditEvents(orgID: id, actionPrefix: "org.", limit: 5).map(\.action) == ["org.provisioned"])
            }
            let page = try await store.organizationsForExport(afterID: 0, limit: 2)
            #expect(page.map(\.organization.name) == ["Existing", "New One"])
            #expect(page.map { $0.superAdmin?.loginName } == [existing.admin.loginName, "one"])
            #expect(page[1].superAdmin?.passwordHash == "hash-one" && page[1].key?.orgID == one)
            #expect(try await store.organizationsForExport(afterID: one, limit: 10).map(\.organization.id) == [two])
        }
    }

    @Test(
        "two imports of the same rows at once: every organization exactly once and whole; a batch that lost a race fails whole",
        arguments: Backend.available)
    func concurrentImports(_ backend: Backend) async throws {
        try await withStore(backend) { db, store in
            let rows = (0..<300).map { i in
                NewOrganization(
                    name: "Race \(i)", superAdmin: NewAdmin(loginName: "race\(i)", userName: "r", email: "", passwordHash: "h"),
                    key: APIKeyValue.generate())
            }
            @Sendable func attempt() async -> [OrganizationImportOutcome]? {
                try? await store.importOrganizations(rows, sealKey: { id, _ in "sealed-\(id)" }, operator: "ops", at: t0)
            }
            async let first = attempt()
            async let second = attempt()
            let results = await [first, second]
            // Whoever lost (if their checks ran before the winner committed) failed whole; running it again skips all.
            let again = try await store.importOrganizations(rows, sealKey: { id, _ in "sealed-\(id)" }, operator: "ops", at: t0)
            #expect(again.allSatisfy { $0 == .existing })
            #expect(results.contains { $0 != nil }, "at least one import went through")
            let counts = try await db.read { sql in
                (
                    try await SQLKeygateStore.count(sql, "SELECT COUNT(*) AS n FROM organizations"),
                    try await SQLKeygateStore.count(sql, "SELECT COUNT(*) AS n FROM admins"),
                    try await SQLKeygateStore.count(sql, "SELECT COUNT(*) AS n FROM api_keys"),
                    try await SQLKeygateStore.count(sql, "SELECT COUNT(*) AS n FROM roles")
                )
            }
            #expect(counts == (300, 300, 300, 600))
        }
    }

    @Test("housekeeping deletes expired sessions and replay digests in batches until none is left", arguments: Backend.available)
    func housekeepingBatches(_ backend: Backend) async throws {
        try await withStore(backend) { db, store in
            let org = try await provision(store)
            let expired = SQLKeygateStore.housekeepingBatch * 2 + 7
            try await db.transaction(announcing: .nothing) { sql in
                for i in 0..<(expired + 3) {
                    let seen = i < expired ? t0 : t0.addingTimeInterval(3500)
                    try await sql.raw(
                        """
                        INSERT INTO sessions (token_hash, org_id, admin_id, key_id, key_version, kind, created_at, last_seen_at)
                        VALUES (\(bind: "t\(i)"), \(bind: org.organization.id), \(bind: org.admin.id), 1, 1, 'ztw', \(bind: t0.millis), \(bind: seen.millis))
                        """
                    ).run()
                    let expiry = i < expired ? t0 : t0.addingTimeInterval(7200)
                    try await sql.raw("INSERT INTO login_replays (digest, expires_at) VALUES (\(bind: "d\(i)"), \(bind: expiry.millis))").run()
                }
            }
            #expect(try await store.deleteExpired(now: t0.addingTimeInterval(3600), ztwIdle: 1800, ziaIdle: 300) == expired)
            #expect(try await store.sessionCount(orgID: org.organization.id) == 3)
            let replays = try await db.read { sql in try await SQLKeygateStore.count(sql, "SELECT COUNT(*) AS n FROM login_replays") }
            #expect(replays == 3)
        }
    }

    @Test("SQLite: a server that finds a gap in the change log (rows pruned before it read them) invalidates everything")
    func changeLogGap() async throws {
        try await withTwoProcesses(.sqliteFile) { server, _, cli, _ in
            let heard = EventLog(server.changes)
            try await withWatcher(server) {
                #expect(try await heard.wait(for: .listening))
                try await cli.transaction(announcing: .organization(id: 1)) { _ in }
                #expect(try await heard.waitForChanges(1))
                #expect(heard.changes == [.organization(id: 1)])
                // Two more changes, the older of them pruned before the server could read it (in one commit, so the
                // server cannot read in between): it cannot know what it missed.
                try await cli.transaction(announcing: .organization(id: 3)) { sql in
                    try await sql.raw("INSERT INTO change_log (origin, scope) VALUES ('other', 'o:2')").run()
                    try await sql.raw("DELETE FROM change_log WHERE scope = 'o:2'").run()
                }
                #expect(try await heard.waitForChanges(2))
                #expect(heard.changes.last == .everything)
            }
        }
    }
}

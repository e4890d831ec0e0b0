import Foundation
import KeygateCore
import Logging
import SQLKit
import Synchronization
import Testing

@testable import KeygateStorage

@Suite("Storage contract: roles, admins and the audit trail")
struct AdminStoreContractTests {
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

import Foundation
import KeygateCore
import Logging
import SQLKit
import Synchronization
import Testing

@testable import KeygateStorage

@Suite("Storage contract: API, portal and console sessions")
struct SessionStoreContractTests {
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
}

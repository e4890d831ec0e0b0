import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateCore
import KeygateServer
import KeygateStorage
import Testing

/// What the official Go SDK sends, and the shapes Zscaler's recorded answers show (issue 8, part 1).
@Suite("Go SDK wire quirks and Zscaler fidelity")
struct ClientFidelityTests {
    @Test("the first valid session among several JSESSIONID cookies and the JSessionID header wins, for calls and logout")
    func severalSessionIDs() async throws {
        try await withServer { harness, client in
            let stale = try await client.login(harness)
            #expect(try await client.send(.delete, "/api/v1/auth", session: stale).status == .noContent)
            let fresh = try await client.login(harness)
            let both: HTTPFields = [.cookie: "JSESSIONID=\(stale); JSESSIONID=\(fresh)", HTTPField.Name("JSessionID")!: fresh]
            let listed = try await client.send(.get, "/api/v1/apiKeys", headers: both)
            #expect(listed.status == .ok && listed.array.count == 1)
            let headerOnly = try await client.send(.get, "/api/v1/apiKeys", headers: [HTTPField.Name("JSessionID")!: fresh])
            #expect(headerOnly.status == .ok)
            // The stale id is read from the database once; after that the cache knows it has no session.
            #expect(harness.cache.isUnknown(tokenHash: Secrets.sha256Hex(stale)))
            #expect(try await client.send(.get, "/api/v1/apiKeys", headers: both).status == .ok)
            // Logout ends the live one, not the stale one that comes first.
            #expect(try await client.send(.delete, "/api/v1/auth", headers: both).status == .noContent)
            #expect(try await client.send(.get, "/api/v1/auth", session: fresh).status == .unauthorized)
        }
    }

    @Test("ZIA logout at the server root (DELETE /authenticatedSession) ends the session")
    func rootZIALogout() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness, path: "/api/v1/authenticatedSession")
            #expect(try await client.send(.get, "/api/v1/authenticatedSession", session: session).status == .ok)
            let out = try await client.send(.delete, "/authenticatedSession", session: session)
            #expect(out.status == .noContent && out.body.readableBytes == 0)
            #expect(try await client.send(.get, "/api/v1/authenticatedSession", session: session).status == .unauthorized)
        }
    }

    @Test("regenerate through the Go SDK's doubled path; whole key objects accepted; provider-only changes are 403")
    func keyObjects() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness)
            let id = harness.org.key.id
            let old = try await harness.currentKey()
            let regenerated = try await client.send(
                .post, "/api/v1/apiKeys/\(id)/ztw/api/v1/regenerate?includePartnerKey=false", session: session, json: [String: Any]())
            #expect(regenerated.status == .ok && regenerated.object["keyValue"] as? String != old)
            #expect(try await harness.currentKey() == regenerated.object["keyValue"] as? String)

            // GET, change keyValue, PUT the whole object back (the Python SDK's request_format()).
            var object = try #require(try await client.send(.get, "/api/v1/apiKeys", session: session).array.first)
            object["keyValue"] = "Round0Trip12"
            let put = try await client.send(.put, "/api/v1/apiKeys/\(id)", session: session, json: object)
            #expect(put.status == .ok && put.object["keyValue"] as? String == "Round0Trip12")
            for (field, value) in [("enabled", false as Any), ("permissions", ["ADMIN"] as Any), ("partnerUrl", "https://p.example" as Any)] {
                var changed = object
                changed["keyValue"] = "Other0Value1"
                changed[field] = value
                let refused = try await client.send(.put, "/api/v1/apiKeys/\(id)", session: session, json: changed)
                #expect(refused.status == .forbidden && refused.code == "NOT_AUTHORIZED", "\(field)")
            }
            #expect(try await harness.currentKey() == "Round0Trip12")
            // The Go SDK's create with the key object: understood (a key exists, so 409), not an unknown field.
            let create = try await client.send(
                .post, "/api/v1/apiKeys?includePartnerKey=false", session: session, json: ["keyValue": "Create0Key12", "enabled": true])
            #expect(create.status == .conflict)
        }
    }

    @Test("key-object fields: the server's own are ignored; only the provider's changes are refused")
    func clientFields() throws {
        // What a GET answers, sent back unchanged, passes; so does nothing at all.
        try KeyRules.checkClientFields(enabled: true, permissions: [], partnerUrl: "")
        try KeyRules.checkClientFields(enabled: nil, permissions: nil, partnerUrl: nil)
        for (enabled, permissions, partnerUrl) in [(false, nil, nil), (nil, ["ADMIN"], nil), (nil, nil, "https://p.example")]
            as [(Bool?, [String]?, String?)]
        {
            #expect(throws: KeygateError.self) { try KeyRules.checkClientFields(enabled: enabled, permissions: permissions, partnerUrl: partnerUrl) }
        }
    }

    @Test("roles: lite short form, ZIA role types on the ZIA alias, auditors only when asked, a read-only role from the start")
    func roleFidelity() async throws {
        try await withServer { harness, client in
            let ztw = try await client.login(harness)
            let zia = try await client.login(harness, path: "/api/v1/authenticatedSession")
            _ = try await client.send(
                .post, "/api/v1/adminRoles", session: ztw,
                json: ["name": "Auditor", "isAuditor": true, "featurePermissions": ["APIKEY_MANAGEMENT": "READ_ONLY"]])
            let lite = try await client.send(.get, "/api/v1/adminRoles/lite", session: zia)
            #expect(lite.array.count == 2, "Super Admin and Read Only Admin; the auditor role only when asked")
            #expect(lite.array.allSatisfy { Set($0.keys) == ["id", "rank", "name", "roleType", "reportTimeDuration"] })
            #expect(lite.array.allSatisfy { $0["roleType"] as? String == "ORG_ADMIN" && $0["reportTimeDuration"] as? Int == -1 })
            #expect(
                try await client.send(.get, "/api/v1/adminRoles", session: ztw).array.allSatisfy {
                    $0["roleType"] as? String == "EDGE_CONNECTOR_ADMIN"
                })
            let names = { (r: TestResponse) in r.array.compactMap { $0["name"] as? String } }
            #expect(names(try await client.send(.get, "/api/v1/adminRoles", session: ztw)) == ["Super Admin", "Read Only Admin"])
            #expect(names(try await client.send(.get, "/api/v1/adminRoles?includeAuditorRole=True", session: ztw)).contains("Auditor"))
            #expect(try await client.send(.get, "/api/v1/adminRoles?includeAuditorRole=maybe", session: ztw).status == .badRequest)

            let auditorRole = try #require(try await harness.store.roles(orgID: harness.orgID).first { $0.isAuditor })
            _ = try await harness.keygate.admins.createAdmin(
                harness.keygate.commandLineProvider(operator: "t"), orgID: harness.orgID,
                draft: AdminDraft(loginName: "audrey", roleID: auditorRole.id, password: "Audit0r!pass"))
            let logins = { (r: TestResponse) in r.array.compactMap { $0["loginName"] as? String } }
            #expect(logins(try await client.send(.get, "/api/v1/adminUsers", session: ztw)) == ["root"])
            #expect(logins(try await client.send(.get, "/api/v1/adminUsers?includeAuditorUsers=true", session: ztw)).contains("audrey"))
        }
    }

    @Test("every API answer carries Cache-Control: no-store; no HSTS without TLS")
    func noStore() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness)
            let keys = try await client.send(.get, "/api/v1/apiKeys", session: session)
            #expect(keys.headers[.cacheControl] == "no-store" && keys.headers[.strictTransportSecurity] == nil)
            #expect(try await client.send(.get, "/api/v1/apiKeys/\(harness.org.key.id)", session: session).headers[.cacheControl] == "no-store")
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateCore
import KeygateStorage
import Testing

/// The portal through the router: what the browser tests (Tests/e2e/test_portal.py) cannot see cheaply, such as
/// exact statuses, cookie flags, forged requests and that a refused action changes nothing.
@Suite("Admin portal")
struct PortalTests {
    /// Signs in and returns the cookie value (the browser's portal tokens).
    static func signIn(_ client: any TestClientProtocol, login: String = "root", password: String = Harness.password) async throws -> String {
        let response = try await client.form(.post, "/portal/signin", ["loginName": login, "password": password])
        try #require(response.status == .seeOther, "sign-in failed: \(response.status) \(response.text.prefix(300))")
        let cookie = try #require(response.headers[.setCookie])
        return String(cookie.split(separator: ";")[0].dropFirst("kg_portal=".count))
    }

    /// The CSRF token a page carries.
    static func csrf(_ page: TestResponse) throws -> String {
        let match = try #require(page.text.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/))
        return String(match.1)
    }

    @Test("sign-in: a wrong password is an HTML page with the reason; a right one sets a HttpOnly, SameSite, Path=/portal cookie")
    func signIn() async throws {
        try await withServer(trustProxy: true) { harness, client in
            let wrong = try await client.form(.post, "/portal/signin", ["loginName": "root", "password": "nope-nope-1"])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(wrong.text.contains("The login name or password is wrong.") && wrong.headers[.setCookie] == nil)
            #expect(wrong.text.contains(#"value="root""#), "the login name is kept")

            let ok = try await client.form(.post, "/portal/signin", ["loginName": "ROOT", "password": Harness.password])
            #expect(ok.status == .seeOther && ok.headers[.location] == "/portal/orgs/\(harness.orgID)/keys")
            let cookie = try #require(ok.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/portal"))
            #expect(!cookie.contains("Secure"), "plain HTTP, no trusted proxy saying https")
            let behindTLS = try await client.form(
                .post, "/portal/signin", ["loginName": "root", "password": Harness.password], headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"]
            )
            #expect(behindTLS.headers[.setCookie]?.contains("; Secure") == true)

            // A portal token is not an API session, and the page needs the portal cookie.
            let token = String(cookie.split(separator: ";")[0].dropFirst("kg_portal=".count))
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: token).status == .unauthorized)
            #expect(try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys").status == .seeOther)
            let page = try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(token)"])
            let key = try #require(try await harness.currentKey())
            #expect(page.status == .ok && page.text.contains(key))
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
        }
    }

    @Test("failed sign-ins are limited like API logins, and count together with them")
    func throttled() async throws {
        try await withServer(throttle: .init(perPair: 3, perAddress: 100, perLoginName: 100, window: 900)) { harness, client in
            for _ in 0..<2 {
                #expect(try await client.form(.post, "/portal/signin", ["loginName": "root", "password": "wrong-passw0rd!"]).status == .unauthorized)
            }
            // A third failure through the API fills the name's budget for both.
            #expect(try await client.send(.post, "/api/v1/auth", json: harness.loginBody(key: "Wrong0Key123")).status == .badRequest)
            let locked = try await client.form(.post, "/portal/signin", ["loginName": "root", "password": Harness.password])
            #expect(locked.status == .tooManyRequests && locked.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(locked.headers[.setCookie] == nil)
        }
    }

    @Test("forms decode into their typed structs: a repeated field or a malformed body is 400 and changes nothing; an extra field is ignored")
    func typedForms() async throws {
        try await withServer { harness, client in
            let cookie = try await Self.signIn(client)
            let page = try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(cookie)"])
            let token = try Self.csrf(page)
            let path = "/portal/orgs/\(harness.orgID)/keys/edit"
            let id = harness.org.key.id
            let before = try await harness.currentKey()
            let headers: HTTPFields = [.cookie: "kg_portal=\(cookie)"]
            for body in [
                "csrf=\(token)&id=\(id)&keyValue=Twice0Key123&keyValue=Other0Key123",  // which one wins? neither: refused
                "csrf=\(token)&id=\(id)&keyValue=%ZZbad", "csrf=\(token)&id[]=\(id)&keyValue=Array0Key123",
            ] {
                let refused = try await client.send(.post, path, raw: body, contentType: "application/x-www-form-urlencoded", headers: headers)
                #expect(refused.status == .badRequest, "\(body)")
                #expect(refused.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            #expect(try await harness.currentKey() == before)
            let extra = try await client.send(
                .post, path, raw: "csrf=\(token)&id=\(id)&keyValue=Extra0Key123&colour=red", contentType: "application/x-www-form-urlencoded",
                headers: headers)
            let after = try await harness.currentKey()
            #expect(extra.status == .seeOther && after == "Extra0Key123")
        }
    }

    @Test("every action needs the page's CSRF token and this origin; refused, nothing changes")
    func csrf() async throws {
        try await withServer { harness, client in
            let cookie = try await Self.signIn(client)
            let before = try await harness.currentKey()
            let id = harness.org.key.id
            let path = "/portal/orgs/\(harness.orgID)/keys/edit"
            let noToken = try await client.form(.post, path, ["keyValue": "Forged0Key12", "id": "\(id)"], cookie: cookie)
            #expect(noToken.status == .forbidden && noToken.headers[.contentType]?.hasPrefix("text/html") == true)
            let page = try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(cookie)"])
            let token = try Self.csrf(page)
            let otherSite = try await client.form(
                .post, path, ["keyValue": "Forged0Key12", "id": "\(id)", "csrf": token], cookie: cookie,
                headers: [.origin: "https://evil.example"])
            #expect(otherSite.status == .forbidden)
            let opaque = try await client.form(
                .post, path, ["keyValue": "Forged0Key12", "id": "\(id)", "csrf": token], cookie: cookie, headers: [.origin: "null"])
            #expect(opaque.status == .forbidden)
            #expect(try await harness.currentKey() == before)

            let api = try await client.login(harness)
            let done = try await client.form(.post, path, ["keyValue": "Portal0Key12", "id": "\(id)", "csrf": token], cookie: cookie)
            #expect(done.status == .seeOther && done.headers[.location]?.contains("done=edited&ended=1") == true)
            #expect(try await harness.currentKey() == "Portal0Key12")
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: api).status == .unauthorized, "the old key's session ended")
        }
    }

    @Test("a bad key value is refused next to the field, with the dialog open again, and changes nothing")
    func badValue() async throws {
        try await withServer { harness, client in
            let cookie = try await Self.signIn(client)
            let page = try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(cookie)"])
            let token = try Self.csrf(page)
            let before = try #require(try await harness.currentKey())
            for value in ["short", "has space 12", "<script>x12", before] {
                let refused = try await client.form(
                    .post, "/portal/orgs/\(harness.orgID)/keys/edit", ["keyValue": value, "id": "\(harness.org.key.id)", "csrf": token],
                    cookie: cookie)
                #expect(refused.status == .badRequest, "\(value)")
                #expect(refused.text.contains(#"id="dialog-edit" aria-labelledby="edit-title" data-open"#))
                #expect(!refused.text.contains("<script>x12"), "the submitted value is escaped")
                #expect(try await harness.currentKey() == before)
            }
            let stale = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/keys/regenerate", ["id": "999", "csrf": token], cookie: cookie)
            #expect(stale.status == .notFound)
            #expect(try await harness.currentKey() == before)
            let malformed = try await client.send(
                .post, "/portal/orgs/\(harness.orgID)/keys/edit", raw: "keyValue=%zz&csrf=\(token)",
                contentType: "application/x-www-form-urlencoded", headers: [.cookie: "kg_portal=\(cookie)"])
            #expect(malformed.status == .badRequest && malformed.headers[.contentType]?.hasPrefix("text/html") == true)
        }
    }

    @Test("READ_ONLY sees the key without actions and a forged POST is refused; NONE gets a no-access page")
    func roles() async throws {
        try await withServer { harness, client in
            _ = try await harness.addAdmin("viewer", access: .readOnly)
            _ = try await harness.addAdmin("nobody", access: .none)
            let viewer = try await Self.signIn(client, login: "viewer")
            let page = try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(viewer)"])
            let key = try #require(try await harness.currentKey())
            #expect(page.status == .ok && page.text.contains(key))
            #expect(!page.text.contains(#"id="edit-key""#) && !page.text.contains(#"id="dialog-edit""#) && page.text.contains(#"id="read-only""#))
            let before = try await harness.currentKey()
            let forged = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/keys/regenerate", ["id": "\(harness.org.key.id)", "csrf": try Self.csrf(page)],
                cookie: viewer)
            #expect(forged.status == .forbidden && forged.text.contains("read-only"))
            #expect(try await harness.currentKey() == before)

            let nobody = try await Self.signIn(client, login: "nobody")
            let denied = try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(nobody)"])
            #expect(denied.status == .forbidden && denied.text.contains("No access") && !denied.text.contains(before ?? "-"))
        }
    }

    @Test("the column choice is validated, saved per admin and used on any later sign-in")
    func columns() async throws {
        try await withServer { harness, client in
            let cookie = try await Self.signIn(client)
            let page = try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(cookie)"])
            let token = try Self.csrf(page)
            let path = "/portal/orgs/\(harness.orgID)/columns"
            for bad in ["", "key,key", "key,password"] {
                #expect(try await client.form(.post, path, ["columns": bad, "csrf": token], cookie: cookie).status == .badRequest, "\(bad)")
            }
            #expect(try await client.form(.post, path, ["columns": "status,key", "csrf": token], cookie: cookie).status == .seeOther)
            let later = try await Self.signIn(client)
            let again = try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(later)"])
            let headings = again.text.matches(of: /<th scope="col" data-column="(\w+)">/).map { String($0.1) }
            #expect(headings == ["status", "key"])
        }
    }

    /// Signs in with another account in the same browser; returns the merged cookie value.
    static func addSignIn(_ client: any TestClientProtocol, cookie: String, login: String, password: String = Harness.password) async throws -> String
    {
        let response = try await client.form(.post, "/portal/signin", ["loginName": login, "password": password], cookie: cookie)
        try #require(response.status == .seeOther, "sign-in failed: \(response.status)")
        return String(try #require(response.headers[.setCookie]).split(separator: ";")[0].dropFirst("kg_portal=".count))
    }

    @Test("each account's sign-in adds its organization; one key applied to all; API logins then reach each organization deterministically")
    func multiOrganization() async throws {
        try await withServer { harness, client in
            // Login names are unique across the server: the same person has one account per organization.
            let second = try await harness.keygate.organizations.provisionOrganization(
                harness.keygate.commandLineProvider(operator: "test"), name: "Beta", adminLogin: "root.beta", password: Harness.password)
            let third = try await harness.keygate.organizations.provisionOrganization(
                harness.keygate.commandLineProvider(operator: "test"), name: "Gamma", adminLogin: "root.gamma", password: "Other-passw0rd")
            // In Delta the same person only views keys: the apply is refused there, and only there.
            let delta = try await harness.keygate.organizations.provisionOrganization(
                harness.keygate.commandLineProvider(operator: "test"), name: "Delta", adminLogin: "root.delta", password: Harness.password)
            let note = AuditEvent(
                orgID: delta.organization.id, at: harness.clock.now, actor: .provider(name: "t"), action: .roleCreated, detail: "")
            let viewers = try await harness.store.insertRole(
                Role(id: 0, orgID: delta.organization.id, name: "Viewers", featurePermissions: [Role.apiKeyManagement: .readOnly]), audit: note)
            var viewer = delta.admin
            viewer.roleID = viewers.id
            try await harness.store.updateAdmin(viewer, endSessions: false, keepSession: nil, audit: note)
            var cookie = try await Self.signIn(client)
            cookie = try await Self.addSignIn(client, cookie: cookie, login: "root.beta")
            cookie = try await Self.addSignIn(client, cookie: cookie, login: "root.delta")
            #expect(cookie.split(separator: ".").count == 3, "Acme, Beta and Delta, not Gamma (not signed in)")
            let page = try await client.send(.get, "/portal/orgs/\(second.organization.id)/keys", headers: [.cookie: "kg_portal=\(cookie)"])
            #expect(page.status == .ok && page.text.contains("Beta") && page.text.contains(#"id="open-apply""#))
            let denied = try await client.send(.get, "/portal/orgs/\(third.organization.id)/keys", headers: [.cookie: "kg_portal=\(cookie)"])
            #expect(denied.status == .notFound)
            let token = try Self.csrf(page)

            let invalid = try await client.form(.post, "/portal/apply-all", ["keyValue": "nope", "csrf": token], cookie: cookie)
            #expect(invalid.status == .badRequest && invalid.text.contains("data-open"))
            let applied = try await client.form(.post, "/portal/apply-all", ["keyValue": "Shared0Key12", "csrf": token], cookie: cookie)
            #expect(applied.status == .ok && applied.text.matches(of: /data-ok="true"/).count == 2)
            #expect(applied.text.contains("Not changed: your role grants read-only access"))
            #expect(
                try await harness.keygate.keys.currentKey(harness.keygate.commandLineProvider(operator: "test"), orgID: delta.organization.id)?.value
                    .rawValue != "Shared0Key12")
            #expect(try await harness.currentKey() == "Shared0Key12")
            #expect(
                try await harness.keygate.keys.currentKey(harness.keygate.commandLineProvider(operator: "test"), orgID: second.organization.id)?.value
                    .rawValue == "Shared0Key12")
            #expect(
                try await harness.keygate.keys.currentKey(harness.keygate.commandLineProvider(operator: "test"), orgID: third.organization.id)?.value
                    .rawValue != "Shared0Key12")
            let twice = try await client.form(.post, "/portal/apply-all", ["keyValue": "Shared0Key12", "csrf": token], cookie: cookie)
            #expect(twice.text.contains("Unchanged: it already has this key."))

            // One key string in two organizations: each account's API login reaches its own organization, every time.
            for _ in 0..<3 {
                for (user, keyID) in [("root", harness.org.key.id), ("root.beta", second.key.id)] {
                    let session = try await client.login(harness, user: user, key: "Shared0Key12")
                    let keys = try await client.send(.get, "/api/v1/apiKeys", session: session)
                    #expect(keys.array.map { $0["id"] as? Int } == [Int(keyID)])
                }
            }
        }
    }

    @Test("organizations added by a second sign-in, and tokens that ended, keep the page's CSRF token valid")
    func csrfWithSeveralSignIns() async throws {
        try await withServer { harness, client in
            for (name, login) in [("Bravo", "pat"), ("Alpha", "sam"), ("Charlie", "sam.charlie")] {
                _ = try await harness.keygate.organizations.provisionOrganization(
                    harness.keygate.commandLineProvider(operator: "t"), name: name, adminLogin: login, password: Harness.password)
            }
            let first = try await Self.signIn(client, login: "pat")
            let second = try await Self.addSignIn(client, cookie: first, login: "sam")
            let merged = try await Self.addSignIn(client, cookie: second, login: "sam.charlie")
            #expect(merged.split(separator: ".").count == 3)
            // A token that no longer works stays in the browser's cookie until the next sign-in or sign-out.
            let cookie = merged + "." + String(repeating: "f", count: 32)
            let bravo = try #require(try await harness.store.organization(named: "Bravo"))
            let page = try await client.send(.get, "/portal/orgs/\(bravo.id)/keys", headers: [.cookie: "kg_portal=\(cookie)"])
            #expect(page.text.matches(of: /<option value="\d+"/).count == 3)
            let saved = try await client.form(
                .post, "/portal/orgs/\(bravo.id)/columns", ["columns": "key", "csrf": try Self.csrf(page)], cookie: cookie)
            #expect(saved.status == .seeOther)
        }
    }

    @Test("a portal session ends after 30 idle minutes, and at once when its admin is disabled")
    func sessionEnds() async throws {
        try await withServer { harness, client in
            _ = try await harness.addAdmin("ida", access: .readWrite)
            let root = try await Self.signIn(client)
            let ida = try await Self.signIn(client, login: "ida")
            let path = "/portal/orgs/\(harness.orgID)/keys"
            harness.clock.advance(29 * 60)
            #expect(try await client.send(.get, path, headers: [.cookie: "kg_portal=\(root)"]).status == .ok, "activity resets the idle time")
            harness.clock.advance(29 * 60)
            #expect(try await client.send(.get, path, headers: [.cookie: "kg_portal=\(root)"]).status == .ok)
            let idle = try await client.send(.get, path, headers: [.cookie: "kg_portal=\(ida)"])
            #expect(idle.status == .seeOther && idle.headers[.location] == "/portal/signin", "ida was idle for 58 minutes")

            let fresh = try await Self.signIn(client, login: "ida")
            let admin = try #require(try await harness.store.admins(orgID: harness.orgID).first { $0.loginName == "ida" })
            _ = try await harness.keygate.admins.updateAdmin(
                harness.keygate.commandLineProvider(operator: "t"), current: admin, draft: AdminDraft(disabled: true))
            #expect(try await client.send(.get, path, headers: [.cookie: "kg_portal=\(fresh)"]).status == .seeOther)
        }
    }

    @Test("sign-out ends the browser's portal sessions on the server")
    func signOut() async throws {
        try await withServer { harness, client in
            let cookie = try await Self.signIn(client)
            let page = try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(cookie)"])
            let out = try await client.form(.post, "/portal/signout", ["csrf": try Self.csrf(page)], cookie: cookie)
            #expect(out.status == .seeOther && out.headers[.setCookie]?.contains("Max-Age=0") == true)
            let after = try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(cookie)"])
            #expect(after.status == .seeOther && after.headers[.location] == "/portal/signin")
        }
    }
}

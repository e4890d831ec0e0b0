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
            let second = try await harness.keygate.provisionOrganization(
                name: "Beta", adminLogin: "root.beta", password: Harness.password, operator: "test")
            let third = try await harness.keygate.provisionOrganization(
                name: "Gamma", adminLogin: "root.gamma", password: "Other-passw0rd", operator: "test")
            // In Delta the same person only views keys: the apply is refused there, and only there.
            let delta = try await harness.keygate.provisionOrganization(
                name: "Delta", adminLogin: "root.delta", password: Harness.password, operator: "test")
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
            #expect(try await harness.keygate.currentKey(orgID: delta.organization.id)?.value.rawValue != "Shared0Key12")
            #expect(try await harness.currentKey() == "Shared0Key12")
            #expect(try await harness.keygate.currentKey(orgID: second.organization.id)?.value.rawValue == "Shared0Key12")
            #expect(try await harness.keygate.currentKey(orgID: third.organization.id)?.value.rawValue != "Shared0Key12")
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
                _ = try await harness.keygate.provisionOrganization(name: name, adminLogin: login, password: Harness.password, operator: "t")
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
            _ = try await harness.keygate.updateAdmin(current: admin, draft: AdminDraft(disabled: true), actor: .provider(name: "t"))
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

@Suite("Admin portal: audit, admins, roles")
struct PortalOrganizationPagesTests {
    func page(_ client: any TestClientProtocol, _ path: String, cookie: String) async throws -> TestResponse {
        try await client.send(.get, path, headers: [.cookie: "kg_portal=\(cookie)"])
    }

    @Test("audit: newest first, filtered by type, exported as CSV with formula cells defused")
    func audit() async throws {
        try await withServer { harness, client in
            let cookie = try await PortalTests.signIn(client)
            let keys = try await page(client, "/portal/orgs/\(harness.orgID)/keys", cookie: cookie)
            let edited = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/keys/edit",
                ["keyValue": "Audit0Key123", "id": "\(harness.org.key.id)", "csrf": try PortalTests.csrf(keys)], cookie: cookie)
            #expect(edited.status == .seeOther)
            let all = try await page(client, "/portal/orgs/\(harness.orgID)/audit", cookie: cookie)
            let actions = all.text.matches(of: /<code>([a-z_.]+)<\/code>/).map { String($0.1) }
            #expect(actions.first == "key.edited" && actions.contains("portal.signed_in") && actions.last == "org.provisioned")
            let onlyKeys = try await page(client, "/portal/orgs/\(harness.orgID)/audit?type=key", cookie: cookie)
            #expect(onlyKeys.text.matches(of: /<code>([a-z_.]+)<\/code>/).allSatisfy { $0.1.hasPrefix("key.") })
            #expect(try await page(client, "/portal/orgs/\(harness.orgID)/audit?type=bogus", cookie: cookie).status == .badRequest)

            // An admin whose display name a spreadsheet would run as a formula.
            _ = try await harness.keygate.createAdmin(
                orgID: harness.orgID,
                draft: AdminDraft(loginName: "eve", userName: "=HYPERLINK(\"x\")", roleID: harness.org.admin.roleID, password: Harness.password),
                actor: .admin(id: harness.org.admin.id, name: "=HYPERLINK(\"x\")"))
            let csv = try await page(client, "/portal/orgs/\(harness.orgID)/audit.csv", cookie: cookie)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(csv.headers[.contentDisposition]?.contains("attachment") == true)
            let lines = csv.text.split(separator: "\r\n")
            #expect(lines.first == "time,actor,action,detail")
            #expect(lines.dropFirst().first?.contains(#","'=HYPERLINK(""x"")",admin.created,"#) == true, "\(lines.dropFirst().first ?? "")")
            #expect(!csv.text.contains("Audit0Key123"), "no secret in the audit trail")
        }
    }

    @Test("admins: add (validated), change role, disable another (their sessions end); never oneself")
    func admins() async throws {
        try await withServer { harness, client in
            let cookie = try await PortalTests.signIn(client)
            let list = try await page(client, "/portal/orgs/\(harness.orgID)/admins", cookie: cookie)
            let token = try PortalTests.csrf(list)
            #expect(list.text.contains("(you)"))
            let weak = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/admins",
                ["loginName": "dan", "password": "weak", "roleID": "\(harness.org.admin.roleID)", "csrf": token], cookie: cookie)
            #expect(weak.status == .badRequest && weak.text.contains(#"id="admin-error""#) && weak.text.contains(#"value="dan""#))
            let made = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/admins",
                ["loginName": "dan", "userName": "Dan", "password": Harness.password, "roleID": "\(harness.org.admin.roleID)", "csrf": token],
                cookie: cookie)
            #expect(made.status == .seeOther)
            let dan = try #require(try await harness.store.admins(orgID: harness.orgID).first { $0.loginName == "dan" })
            let danSession = try await client.login(harness, user: "dan")
            let disabled = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/admins/\(dan.id)", ["action": "disable", "csrf": token], cookie: cookie)
            #expect(disabled.status == .seeOther)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: danSession).status == .unauthorized)
            let me = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/admins/\(harness.org.admin.id)", ["action": "disable", "csrf": token], cookie: cookie)
            #expect(me.status == .conflict && me.text.contains("cannot disable yourself"))
            let renamed = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/admins/\(dan.id)",
                ["action": "edit", "userName": "Daniel", "email": "d@example.com", "csrf": token],
                cookie: cookie)
            #expect(renamed.status == .seeOther)
            let edited = try await harness.store.admin(orgID: harness.orgID, id: dan.id)
            #expect(edited?.userName == "Daniel" && edited?.email == "d@example.com")
            let blank = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/admins/\(dan.id)", ["action": "edit", "userName": " ", "csrf": token], cookie: cookie)
            #expect(blank.status == .badRequest && blank.text.contains(#"id="page-error""#))
            #expect(try await harness.store.admin(orgID: harness.orgID, id: dan.id)?.userName == "Daniel")
            #expect(try await harness.store.admin(orgID: harness.orgID, id: harness.org.admin.id)?.disabled == false)
        }
    }

    @Test("roles: the API key management level is edited per role; Super Admin is fixed; READ_ONLY cannot edit")
    func roles() async throws {
        try await withServer { harness, client in
            _ = try await harness.addAdmin("vera", access: .readOnly)
            let cookie = try await PortalTests.signIn(client)
            let list = try await page(client, "/portal/orgs/\(harness.orgID)/roles", cookie: cookie)
            #expect(list.text.contains("(cannot be edited)"))
            let created = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/roles", ["name": "Auditors", "level": "READ_ONLY", "csrf": try PortalTests.csrf(list)],
                cookie: cookie)
            #expect(created.status == .seeOther)
            #expect(try await harness.store.roles(orgID: harness.orgID).first { $0.name == "Auditors" }?.apiKeyAccess == .readOnly)
            let badLevel = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/roles", ["name": "Odd", "level": "ALL", "csrf": try PortalTests.csrf(list)], cookie: cookie)
            #expect(badLevel.status == .badRequest && badLevel.headers[.contentType]?.hasPrefix("text/html") == true)
            let role = try #require(try await harness.store.roles(orgID: harness.orgID).first { $0.name == "role-vera" })
            let saved = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/roles/\(role.id)", ["level": "READ_WRITE", "csrf": try PortalTests.csrf(list)], cookie: cookie)
            #expect(saved.status == .seeOther)
            #expect(try await harness.store.role(orgID: harness.orgID, id: role.id)?.apiKeyAccess == .readWrite)
            let fixed = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/roles/\(harness.org.admin.roleID)", ["level": "NONE", "csrf": try PortalTests.csrf(list)],
                cookie: cookie)
            #expect(fixed.status == .forbidden)

            let other = try await PortalTests.signIn(client, login: "vera")
            _ = try await harness.store.updateRole(
                Role(id: role.id, orgID: harness.orgID, name: role.name, featurePermissions: [Role.apiKeyManagement: .readOnly]),
                audit: AuditEvent(orgID: harness.orgID, at: harness.clock.now, actor: .provider(name: "t"), action: .roleUpdated, detail: ""))
            let readOnly = try await page(client, "/portal/orgs/\(harness.orgID)/roles", cookie: other)
            #expect(readOnly.status == .ok && !readOnly.text.contains("<select id=\"level-"))
            let refused = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/roles/\(role.id)", ["level": "READ_WRITE", "csrf": try PortalTests.csrf(readOnly)],
                cookie: other)
            #expect(refused.status == .forbidden)
        }
    }
}

@Suite("Provider console")
struct ProviderConsoleTests {
    @Test("the organization list pages by 100 and searches by name")
    func paging() async throws {
        try await withServer { harness, client in
            for i in 0..<120 {
                _ = try await harness.keygate.provisionOrganization(
                    name: String(format: "Org %03d", i), adminLogin: "a\(i)", password: Harness.password, operator: "t")
            }
            _ = try await harness.keygate.createOperator(loginName: "ops", password: "Ops!passw0rd")
            let ok = try await client.form(.post, "/provider/signin", ["loginName": "ops", "password": "Ops!passw0rd"])
            let headers: HTTPFields = [.cookie: String(try #require(ok.headers[.setCookie]).split(separator: ";")[0])]
            let first = try await client.send(.get, "/provider", headers: headers)
            #expect(first.text.matches(of: /<tr data-org=/).count == 100)
            #expect(first.text.contains("121 organization(s) · page 1 of 2") && first.text.contains(#"id="next-page""#))
            let second = try await client.send(.get, "/provider?page=2", headers: headers)
            #expect(second.text.matches(of: /<tr data-org=/).count == 21 && !second.text.contains(#"id="next-page""#))
            let found = try await client.send(.get, "/provider?q=org%2011", headers: headers)
            let names = found.text.matches(of: /<tr data-org="([^"]+)"/).map { String($0.1) }
            #expect(names == ["Org 110", "Org 111", "Org 112", "Org 113", "Org 114", "Org 115", "Org 116", "Org 117", "Org 118", "Org 119"])
            #expect(try await client.send(.get, "/provider?page=99", headers: headers).text.contains("page 2 of 2"))
        }
    }

    @Test("operators sign in; list, create an organization (password shown once), disable and enable its key, read its audit trail")
    func console() async throws {
        try await withServer { harness, client in
            _ = try await harness.keygate.createOperator(loginName: "ops", password: "Ops!passw0rd")
            #expect(try await client.send(.get, "/provider").headers[.location] == "/provider/signin")
            let wrong = try await client.form(.post, "/provider/signin", ["loginName": "ops", "password": "nope-nope-1"])
            #expect(wrong.status == .unauthorized && wrong.text.contains("wrong"))
            // An organization admin is not an operator.
            #expect(try await client.form(.post, "/provider/signin", ["loginName": "root", "password": Harness.password]).status == .unauthorized)
            let ok = try await client.form(.post, "/provider/signin", ["loginName": "ops", "password": "Ops!passw0rd"])
            let setCookie = try #require(ok.headers[.setCookie])
            #expect(setCookie.contains("Path=/provider") && setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
            let cookie = String(setCookie.split(separator: ";")[0])
            let headers: HTTPFields = [.cookie: cookie]
            let list = try await client.send(.get, "/provider", headers: headers)
            #expect(list.status == .ok && list.text.contains(#"data-org="Acme""#))
            let token = try PortalTests.csrf(list)
            // The portal's cookie does not open the console, nor the console's the portal.
            #expect(
                try await client.send(.get, "/provider", headers: [.cookie: "kg_portal=\(cookie.dropFirst("kg_provider=".count))"]).status
                    == .seeOther)

            let noToken = try await client.send(
                .post, "/provider/orgs", raw: "name=Evil&adminLogin=x", contentType: "application/x-www-form-urlencoded", headers: headers)
            #expect(noToken.status == .forbidden)
            #expect(try await harness.store.organization(named: "Evil") == nil)
            let created = try await client.send(
                .post, "/provider/orgs", raw: "name=Delta&adminLogin=boss&csrf=\(token)", contentType: "application/x-www-form-urlencoded",
                headers: headers)
            #expect(created.status == .created && created.headers[.cacheControl] == "no-store")
            let key = try #require(created.text.firstMatch(of: /id="created-key">([A-Za-z0-9]{12})</).map { String($0.1) })
            let delta = try #require(try await harness.store.organization(named: "Delta"))
            #expect(try await harness.keygate.currentKey(orgID: delta.id)?.value.rawValue == key)
            let duplicate = try await client.send(
                .post, "/provider/orgs", raw: "name=Delta&adminLogin=boss&csrf=\(token)", contentType: "application/x-www-form-urlencoded",
                headers: headers)
            #expect(duplicate.status == .conflict && duplicate.text.contains(#"id="create-error""#))

            let api = try await client.login(harness)
            let disabled = try await client.send(
                .post, "/provider/orgs/\(harness.orgID)/key", raw: "action=disable&csrf=\(token)", contentType: "application/x-www-form-urlencoded",
                headers: headers)
            #expect(disabled.status == .seeOther)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: api).status == .unauthorized)
            let detail = try await client.send(.get, "/provider/orgs/\(harness.orgID)", headers: headers)
            #expect(detail.text.contains("<strong>Disabled</strong>") && detail.text.contains("<code>key.disabled</code>"))
            #expect(detail.text.contains(">ops<"), "the operator is the actor in the audit trail")
            _ = try await client.send(
                .post, "/provider/orgs/\(harness.orgID)/key", raw: "action=enable&csrf=\(token)", contentType: "application/x-www-form-urlencoded",
                headers: headers)
            #expect(try await harness.keygate.currentKey(orgID: harness.orgID)?.enabled == true)

            let out = try await client.send(
                .post, "/provider/signout", raw: "csrf=\(token)", contentType: "application/x-www-form-urlencoded", headers: headers)
            #expect(out.status == .seeOther)
            #expect(try await client.send(.get, "/provider", headers: headers).status == .seeOther)

            // A disabled operator's open session ends at once, and they cannot sign in again until enabled.
            let again = try await client.form(.post, "/provider/signin", ["loginName": "ops", "password": "Ops!passw0rd"])
            let live: HTTPFields = [.cookie: String(try #require(again.headers[.setCookie]).split(separator: ";")[0])]
            #expect(try await client.send(.get, "/provider", headers: live).status == .ok)
            try await harness.keygate.setOperatorDisabled(loginName: "ops", disabled: true)
            #expect(try await client.send(.get, "/provider", headers: live).headers[.location] == "/provider/signin")
            let refused = try await client.form(.post, "/provider/signin", ["loginName": "ops", "password": "Ops!passw0rd"])
            #expect(refused.status == .forbidden && refused.headers[.setCookie] == nil)
            await #expect(throws: KeygateError.self) { try await harness.keygate.setOperatorDisabled(loginName: "ghost", disabled: true) }
        }
    }
}

extension TestClientProtocol {
    /// Posts a URL-encoded form, with the portal cookie when given.
    func form(
        _ method: HTTPRequest.Method, _ uri: String, _ fields: [String: String], cookie: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        var headers = extra
        if let cookie { headers[.cookie] = "kg_portal=\(cookie)" }
        return try await send(method, uri, raw: body, contentType: "application/x-www-form-urlencoded", headers: headers)
    }
}

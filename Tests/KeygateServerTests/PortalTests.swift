import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateCore
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

    @Test("one sign-in opens every organization where the account's password matches; one key applied to all, per-organization result")
    func multiOrganization() async throws {
        try await withServer { harness, client in
            let second = try await harness.keygate.provisionOrganization(
                name: "Beta", adminLogin: "root", password: Harness.password, operator: "test")
            let third = try await harness.keygate.provisionOrganization(
                name: "Gamma", adminLogin: "root", password: "Other-passw0rd", operator: "test")
            let cookie = try await Self.signIn(client)
            #expect(cookie.split(separator: ".").count == 2, "Acme and Beta, not Gamma (another password)")
            let page = try await client.send(.get, "/portal/orgs/\(second.organization.id)/keys", headers: [.cookie: "kg_portal=\(cookie)"])
            #expect(page.status == .ok && page.text.contains("Beta") && page.text.contains(#"id="open-apply""#))
            let denied = try await client.send(.get, "/portal/orgs/\(third.organization.id)/keys", headers: [.cookie: "kg_portal=\(cookie)"])
            #expect(denied.status == .notFound)
            let token = try Self.csrf(page)

            let invalid = try await client.form(.post, "/portal/apply-all", ["keyValue": "nope", "csrf": token], cookie: cookie)
            #expect(invalid.status == .badRequest && invalid.text.contains("data-open"))
            let applied = try await client.form(.post, "/portal/apply-all", ["keyValue": "Shared0Key12", "csrf": token], cookie: cookie)
            #expect(applied.status == .ok && applied.text.matches(of: /data-ok="true"/).count == 2)
            #expect(try await harness.currentKey() == "Shared0Key12")
            #expect(try await harness.keygate.currentKey(orgID: second.organization.id)?.value.rawValue == "Shared0Key12")
            #expect(try await harness.keygate.currentKey(orgID: third.organization.id)?.value.rawValue != "Shared0Key12")
            let twice = try await client.form(.post, "/portal/apply-all", ["keyValue": "Shared0Key12", "csrf": token], cookie: cookie)
            #expect(twice.text.contains("Unchanged: it already has this key."))
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

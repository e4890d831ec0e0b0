import Foundation
import HTTPTypes
import HummingbirdTesting
import KeygateCore
import KeygateServer
import KeygateStorage
import NIOCore
import Testing

@Suite("Legacy login and sessions")
struct AuthTests {
    @Test("login answers the legacy body and a JSESSIONID cookie the SDK regex can read, for numeric and string timestamps")
    func login() async throws {
        try await withServer { harness, client in
            let key = try await harness.currentKey()!
            for numeric in [true, false] {
                let r = try await client.send(.post, "/api/v1/auth", json: harness.loginBody(key: key, numeric: numeric))
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "application/json")
                #expect(r.object["authType"] as? String == "ADMIN_LOGIN")
                #expect(r.object["obfuscateApiKey"] as? Bool == true)
                #expect(r.object["passwordExpiryTime"] as? Int == -1)
                #expect(r.object["passwordExpiryDays"] as? Int == -1)
                let cookie = try #require(r.headers[.setCookie])
                let match = try #require(cookie.firstMatch(of: /JSESSIONID=(.*?);/))
                #expect(match.1.count == 32)
                #expect(cookie.contains("HttpOnly") && !cookie.contains("Secure"))
            }
        }
    }

    @Test("the cookie is Secure behind a trusted proxy that says https, and only then")
    func secureBehindProxy() async throws {
        let https: HTTPFields = [HTTPField.Name("X-Forwarded-Proto")!: "https"]
        try await withServer(trustProxy: true) { harness, client in
            let key = try await harness.currentKey()!
            let viaProxy = try await client.send(.post, "/api/v1/auth", json: harness.loginBody(key: key), headers: https)
            #expect(viaProxy.headers[.setCookie]?.hasSuffix("; Secure") == true)
            let direct = try await client.send(.post, "/api/v1/auth", json: harness.loginBody(key: key))
            #expect(direct.headers[.setCookie]?.contains("Secure") == false)
        }
        try await withServer(trustProxy: false) { harness, client in
            let r = try await client.send(.post, "/api/v1/auth", json: harness.loginBody(key: try await harness.currentKey()!), headers: https)
            #expect(r.headers[.setCookie]?.contains("Secure") == false)
        }
    }

    @Test("wrong password, key, user or timestamp all get the same 400 body")
    func uniformFailure() async throws {
        try await withServer { harness, client in
            let key = try await harness.currentKey()!
            var bodies: [[String: Any]] = [
                harness.loginBody(password: "Wrong-passw0rd", key: key),
                harness.loginBody(key: "ZZZZZZZZZZZZ"),
                harness.loginBody(user: "nobody", key: key),
                harness.loginBody(key: key, skewSeconds: -7300),
                harness.loginBody(key: key, skewSeconds: 7300),
            ]
            var nonASCII = harness.loginBody(key: key)
            nonASCII["apiKey"] = "ÅÅÅÅÅÅÅÅÅÅÅÅ"
            bodies.append(nonASCII)
            var texts = Set<String>()
            for body in bodies {
                let r = try await client.send(.post, "/api/v1/auth", json: body)
                #expect(r.status == .badRequest)
                #expect(r.code == "INVALID_USERNAME_OR_PASSWORD")
                #expect(r.headers[.setCookie] == nil)
                texts.insert(r.text)
            }
            #expect(texts.count == 1)
        }
    }

    @Test("an identical login replayed inside the window is refused")
    func replay() async throws {
        try await withServer { harness, client in
            let body = harness.loginBody(key: try await harness.currentKey()!)
            #expect(try await client.send(.post, "/api/v1/auth", json: body).status == .ok)
            let again = try await client.send(.post, "/api/v1/auth", json: body)
            #expect(again.status == .badRequest && again.code == "INVALID_USERNAME_OR_PASSWORD")
        }
    }

    @Test(
        "malformed login requests get a clear 4xx",
        arguments: [
            ("{\"apiKey\":1}", "application/json", 400), ("{", "application/json", 400), ("[1,2]", "application/json", 400),
            ("{\"apiKey\":\"x\",\"username\":\"u\",\"password\":\"p\"}", "application/json", 400),
            ("{\"apiKey\":\"x\",\"username\":\"u\",\"password\":\"p\",\"timestamp\":true}", "application/json", 400),
            ("{\"apiKey\":\"x\",\"username\":\"u\",\"password\":\"p\",\"timestamp\":1,\"extra\":1}", "application/json", 400),
            ("apiKey=x", "application/x-www-form-urlencoded", 415), ("{}", "text/plain", 415),
        ])
    func malformed(_ body: String, _ contentType: String, _ status: Int) async throws {
        try await withServer { _, client in
            let r = try await client.send(.post, "/api/v1/auth", raw: body, contentType: contentType)
            #expect(r.status.code == status)
            #expect(r.code != nil && (r.object["message"] as? String)?.isEmpty == false)
        }
    }

    @Test("an oversized body is refused with 413 in the JSON shape, before and behind the session check")
    func oversized() async throws {
        try await withServer { harness, client in
            let body = "{\"a\":\"" + String(repeating: "x", count: 70_000) + "\"}"
            let r = try await client.send(.post, "/api/v1/auth", raw: body)
            #expect(r.status == .contentTooLarge)
            #expect(r.code == "PAYLOAD_TOO_LARGE")
            let session = try await client.login(harness)
            let behind = try await client.send(.put, "/api/v1/apiKeys/\(harness.org.key.id)", session: session, raw: body)
            #expect(behind.status == .contentTooLarge)
        }
    }

    @Test("GET /auth while the session lives; logout with DELETE /auth (no prefix) answers 204 without a body")
    func checkAndLogout() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness)
            let check = try await client.send(.get, "/api/v1/auth", session: session)
            #expect(check.status == .ok && check.object["authType"] as? String == "ADMIN_LOGIN")
            let out = try await client.send(.delete, "/auth", session: session)
            #expect(out.status == .noContent && out.body.readableBytes == 0 && out.headers[.contentType] == nil)
            let dead = try await client.send(.get, "/api/v1/auth", session: session)
            #expect(dead.status == .unauthorized && dead.code == "SESSION_NOT_VALID")
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .unauthorized)
            // Logout is idempotent.
            #expect(try await client.send(.delete, "/api/v1/auth", session: session).status == .noContent)
        }
    }

    @Test("the ZIA alias creates, checks and ends sessions too")
    func ziaAlias() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness, path: "/api/v1/authenticatedSession")
            #expect(try await client.send(.get, "/api/v1/authenticatedSession", session: session).status == .ok)
            #expect(try await client.send(.delete, "/api/v1/authenticatedSession", session: session).status == .noContent)
            #expect(try await client.send(.get, "/api/v1/authenticatedSession", session: session).status == .unauthorized)
        }
    }

    @Test(
        "no, junk or unknown session cookies are 401", arguments: [nil, "", "abc", "00000000000000000000000000000000", "'; DROP TABLE sessions; --"])
    func badSessions(_ session: String?) async throws {
        try await withServer { _, client in
            let r = try await client.send(.get, "/api/v1/apiKeys", session: session)
            #expect(r.status == .unauthorized && r.code == "SESSION_NOT_VALID")
        }
    }

    @Test("idle timeouts: a ZTW session dies after 30 idle minutes, a ZIA one after 5; activity keeps them alive")
    func idleTimeout() async throws {
        try await withServer { harness, client in
            let ztw = try await client.login(harness)
            let zia = try await client.login(harness, path: "/api/v1/authenticatedSession")
            for _ in 0..<4 {
                harness.clock.advance(240)
                #expect(try await client.send(.get, "/api/v1/auth", session: zia).status == .ok)
            }
            harness.clock.advance(301)
            #expect(try await client.send(.get, "/api/v1/auth", session: zia).status == .unauthorized)
            #expect(try await client.send(.get, "/api/v1/auth", session: ztw).status == .ok)
            harness.clock.advance(1801)
            #expect(try await client.send(.get, "/api/v1/auth", session: ztw).status == .unauthorized)
        }
    }

    @Test("roles without API access, disabled admins and disabled keys cannot log in (403 after a correct password)")
    func loginRefusals() async throws {
        try await withServer { harness, client in
            let key = try await harness.currentKey()!
            let none = try await harness.addAdmin("nobody", access: .none)
            let r1 = try await client.send(.post, "/api/v1/auth", json: harness.loginBody(user: none, key: key))
            #expect(r1.status == .forbidden && r1.code == "NOT_AUTHORIZED")

            let off = try await harness.addAdmin("off", access: .readWrite)
            let admin = try #require(try await harness.store.admins(orgID: harness.orgID).first { $0.loginName == off })
            _ = try await harness.keygate.admins.updateAdmin(
                harness.keygate.commandLineProvider(operator: "t"), current: admin, draft: AdminDraft(disabled: true))
            let r2 = try await client.send(.post, "/api/v1/auth", json: harness.loginBody(user: off, key: key))
            #expect(r2.status == .forbidden && r2.code == "ADMIN_DISABLED")

            _ = try await harness.keygate.keys.setKeyEnabled(harness.keygate.commandLineProvider(operator: "t"), orgID: harness.orgID, enabled: false)
            let r3 = try await client.send(.post, "/api/v1/auth", json: harness.loginBody(key: key))
            #expect(r3.status == .forbidden && r3.code == "API_KEY_DISABLED")
        }
    }

    @Test("failed logins lock the (login, address) pair: 403 LIMIT_EXCEEDED with Retry-After, even for the right password")
    func loginThrottle() async throws {
        try await withServer(throttle: .init(perPair: 3, perAddress: 100, perLoginName: 100, window: 900)) { harness, client in
            let key = try await harness.currentKey()!
            for _ in 0..<3 {
                #expect(
                    try await client.send(.post, "/api/v1/auth", json: harness.loginBody(password: "Wrong-passw0rd", key: key)).status == .badRequest)
            }
            let locked = try await client.send(.post, "/api/v1/auth", json: harness.loginBody(key: key))
            // Not 429: the Go SDK would sleep Retry-After (the whole lock) up to 100 times before failing.
            #expect(locked.status == .forbidden && locked.code == "LIMIT_EXCEEDED")
            #expect(Int(locked.headers[.retryAfter] ?? "") ?? 0 > 0)
            harness.clock.advance(901)
            #expect(try await client.send(.post, "/api/v1/auth", json: harness.loginBody(key: key)).status == .ok)
        }
    }

    @Test("health needs no session; unknown routes are 404 in the JSON shape")
    func healthAndUnknown() async throws {
        try await withServer { _, client in
            let health = try await client.send(.get, "/health")
            #expect(health.status == .ok && health.object["database"] as? String == "ok")
            #expect(try await client.send(.get, "/api/v1/health").status == .ok)
            let unknown = try await client.send(.get, "/api/v1/nothing-here")
            #expect(unknown.status == .notFound && unknown.code == "RESOURCE_NOT_FOUND")
        }
    }
}

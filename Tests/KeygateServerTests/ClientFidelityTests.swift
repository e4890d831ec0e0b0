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
            _ = try await harness.keygate.createAdmin(
                orgID: harness.orgID, draft: AdminDraft(loginName: "audrey", roleID: auditorRole.id, password: "Audit0r!pass"),
                actor: .provider(name: "t"))
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

/// Login defences (issue 8, part 2).
@Suite("Login defences")
struct LoginDefenceTests {
    @Test("a non-canonical timestamp (\"0\" + ts) cannot replay a captured login")
    func canonicalTimestamp() async throws {
        try await withServer { harness, client in
            var body = harness.loginBody(key: try await harness.currentKey()!, numeric: false)
            #expect(try await client.send(.post, "/api/v1/auth", json: body).status == .ok)
            #expect(try await client.send(.post, "/api/v1/auth", json: body).status == .badRequest, "replay")
            let timestamp = try #require(body["timestamp"] as? String)
            for variant in ["0" + timestamp, "00" + timestamp, "+" + timestamp, " " + timestamp] {
                body["timestamp"] = variant
                let replay = try await client.send(.post, "/api/v1/auth", json: body)
                #expect(replay.status == .badRequest && replay.headers[.setCookie] == nil, "\(variant)")
            }
            #expect(SessionRules.isCanonicalTimestamp("1795749071675") && !SessionRules.isCanonicalTimestamp("01795749071675"))
        }
    }

    @Test("no takeover: own password only via passwordChange; a role without admin management, or ranked below, cannot reset")
    func passwordTakeover() async throws {
        try await withServer { harness, client in
            let writer = try await harness.addAdmin("writer", access: .readWrite)
            let writerSession = try await client.login(harness, user: writer)
            let rootID = harness.org.admin.id
            let reset = try await client.send(.put, "/api/v1/adminUsers/\(rootID)", session: writerSession, json: ["password": "Taken0ver!x"])
            #expect(reset.status == .forbidden)
            // With admin management but a lower rank (7) than Super Admin (0): still no.
            var role = try #require(try await harness.store.roles(orgID: harness.orgID).first { $0.name == "role-writer" })
            role.featurePermissions[Role.adminAccountAccess] = .readWrite
            try await harness.store.updateRole(
                role, audit: AuditEvent(orgID: harness.orgID, at: harness.clock.now, actor: .provider(name: "t"), action: .roleUpdated, detail: ""))
            let again = try await client.send(.put, "/api/v1/adminUsers/\(rootID)", session: writerSession, json: ["password": "Taken0ver!x"])
            #expect(again.status == .forbidden)
            let superID = try #require(try await harness.store.roles(orgID: harness.orgID).first { $0.isNonEditable }?.id)
            let grant = try await client.send(
                .post, "/api/v1/adminUsers", session: writerSession,
                json: ["loginName": "mole", "password": "Mole0pass!x", "role": ["id": superID]])
            #expect(grant.status == .forbidden)
            #expect(try await client.send(.post, "/api/v1/auth", json: harness.loginBody(key: try await harness.currentKey()!)).status == .ok)
        }
    }

    @Test("without admin management an admin edits only their own name and e-mail")
    func selfEdit() async throws {
        try await withServer { harness, client in
            let writer = try await harness.addAdmin("writer", access: .readWrite)
            let session = try await client.login(harness, user: writer)
            let me = try #require(try await harness.store.admins(orgID: harness.orgID).first { $0.loginName == writer }?.id)
            let renamed = try await client.send(.put, "/api/v1/adminUsers/\(me)", session: session, json: ["userName": "Wendy Writer"])
            #expect(renamed.status == .ok && renamed.object["userName"] as? String == "Wendy Writer")
            let other = try await client.send(.put, "/api/v1/adminUsers/\(harness.org.admin.id)", session: session, json: ["userName": "X"])
            #expect(other.status == .forbidden)
            let created = try await client.send(
                .post, "/api/v1/adminUsers", session: session, json: ["loginName": "new1", "password": "New0pass!x", "role": ["id": 1]])
            #expect(created.status == .forbidden)
        }
    }

    @Test("a console session ends at its absolute lifetime however busy it is")
    func consoleLifetime() async throws {
        try await withServer { harness, client in
            _ = try await harness.keygate.createOperator(loginName: "ops", password: "Ops!passw0rd")
            let ok = try await client.form(.post, "/provider/signin", ["loginName": "ops", "password": "Ops!passw0rd"])
            let headers: HTTPFields = [.cookie: String(try #require(ok.headers[.setCookie]).split(separator: ";")[0])]
            for _ in 0..<(12 * 4 - 1) {
                harness.clock.advance(15 * 60)
                #expect(try await client.send(.get, "/provider", headers: headers).status == .ok)
            }
            harness.clock.advance(16 * 60)
            #expect(try await client.send(.get, "/provider", headers: headers).headers[.location] == "/provider/signin")
        }
    }

    @Test("a password reset, or one's own change, ends that admin's portal sessions too")
    func resetEndsPortal() async throws {
        try await withServer { harness, client in
            let ann = try await harness.addAdmin("ann", access: .readOnly)
            let portal = try await PortalTests.signIn(client, login: ann)
            let path = "/portal/orgs/\(harness.orgID)/keys"
            #expect(try await client.send(.get, path, headers: [.cookie: "kg_portal=\(portal)"]).status == .ok)
            let root = try await client.login(harness)
            let annID = try #require(try await harness.store.admins(orgID: harness.orgID).first { $0.loginName == ann }?.id)
            #expect(try await client.send(.put, "/api/v1/adminUsers/\(annID)", session: root, json: ["password": "Fresh!pass99"]).status == .ok)
            #expect(try await client.send(.get, path, headers: [.cookie: "kg_portal=\(portal)"]).status == .seeOther)

            // One's own change through passwordChange ends one's portal sessions too, and keeps the API session.
            let rootPortal = try await PortalTests.signIn(client)
            #expect(try await client.send(.get, path, headers: [.cookie: "kg_portal=\(rootPortal)"]).status == .ok)
            let changed = try await client.send(
                .post, "/api/v1/passwordChange", session: root,
                json: ["userName": "root", "oldPassword": Harness.password, "newPassword": "N3w!password"])
            #expect(changed.status == .noContent)
            #expect(try await client.send(.get, path, headers: [.cookie: "kg_portal=\(rootPortal)"]).status == .seeOther)
            #expect(try await client.send(.get, "/api/v1/auth", session: root).status == .ok)
        }
    }

    @Test("wrong old passwords in passwordChange count against the lockout")
    func passwordChangeGuesses() async throws {
        try await withServer(throttle: .init(perPair: 3, perAddress: 100, perLoginName: 100, window: 900)) { harness, client in
            let session = try await client.login(harness)
            for _ in 0..<3 {
                let wrong = try await client.send(
                    .post, "/api/v1/passwordChange", session: session,
                    json: ["userName": "root", "oldPassword": "Guess0ne!x", "newPassword": "N3w!password"])
                #expect(wrong.status == .badRequest)
            }
            let locked = try await client.send(
                .post, "/api/v1/passwordChange", session: session,
                json: ["userName": "root", "oldPassword": Harness.password, "newPassword": "N3w!password"])
            #expect(locked.status == .forbidden && locked.code == "LIMIT_EXCEEDED")
        }
    }

    @Test("passwords with NUL or over 72 bytes are refused wherever one is set; over-long login names are refused")
    func passwordBytes() async throws {
        try await withServer { harness, client in
            let root = try await client.login(harness)
            for bad in ["\u{0}Kg#Passw0rd!", "Aa1!" + String(repeating: "x", count: 69), "Aa1!" + String(repeating: "é", count: 35)] {
                let r = try await client.send(
                    .post, "/api/v1/adminUsers", session: root, json: ["loginName": "nul", "password": bad, "role": ["id": harness.org.admin.roleID]])
                #expect(r.status == .badRequest && r.code == "INVALID_INPUT_ARGUMENT")
            }
            #expect(throws: KeygateError.self) { try PasswordPolicy.validate("Aa1!" + String(repeating: "x", count: 69)) }
            try PasswordPolicy.validate("Aa1!" + String(repeating: "x", count: 68))
            var body = harness.loginBody(key: try await harness.currentKey()!)
            body["username"] = String(repeating: "a", count: 4096)
            let long = try await client.send(.post, "/api/v1/auth", json: body)
            #expect(long.status == .badRequest && long.code == "INVALID_INPUT_ARGUMENT")
        }
    }

    @Test("API and portal sessions end at their absolute lifetime however busy they are")
    func absoluteLifetime() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness)
            let portal = try await PortalTests.signIn(client)
            for _ in 0..<(12 * 4 - 1) {
                harness.clock.advance(15 * 60)
                #expect(try await client.send(.get, "/api/v1/auth", session: session).status == .ok)
                #expect(try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(portal)"]).status == .ok)
            }
            harness.clock.advance(16 * 60)
            #expect(try await client.send(.get, "/api/v1/auth", session: session).status == .unauthorized)
            #expect(try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(portal)"]).status == .seeOther)
        }
    }

    @Test("25 simultaneous wrong guesses: exactly 5 reach bcrypt, the rest are refused before it (over HTTP: Tests/e2e)")
    func simultaneousGuesses() async throws {
        try await withServer { harness, client in
            let requests = (0..<25).map { i in
                LoginRequest(apiKey: "x", username: "root", password: "Wrong-passw0rd", timestamp: String(1_795_749_071_000 + i))
            }
            let keygate = harness.keygate
            _ = client
            let outcomes = await withTaskGroup(of: String.self) { group in
                for request in requests {
                    group.addTask {
                        do {
                            _ = try await keygate.login(request, kind: .ztw, clientAddress: "192.0.2.1")
                            return "ok"
                        } catch KeygateError.invalidCredentials {
                            return "bcrypt"
                        } catch {
                            return "locked"
                        }
                    }
                }
                return await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == "bcrypt" }.count == 5)
            #expect(outcomes.filter { $0 == "locked" }.count == 20)
        }
    }
}
/// Transport bounds (issue 8, part 3).
@Suite("Browser-area limits")
struct BrowserAreaLimitTests {
    @Test("portal and console requests are limited per client address (HTML 429); the API is not counted there")
    func limited() async throws {
        try await withServer(browserLimits: (perSecond: 5, perMinute: 8)) { harness, client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<6 { statuses.append(try await client.send(.get, "/portal/signin").status) }
            #expect(statuses == Array(repeating: .ok, count: 5) + [.tooManyRequests])
            let limited = try await client.send(.get, "/provider/signin")
            #expect(limited.status == .tooManyRequests && limited.headers[.contentType]?.hasPrefix("text/html") == true)
            harness.clock.advance(1)
            for _ in 0..<3 { #expect(try await client.send(.get, "/provider/signin").status == .ok) }
            #expect(try await client.send(.get, "/portal/signin").status == .tooManyRequests, "8 a minute")
            #expect(try await client.send(.get, "/health").status == .ok)
            harness.clock.advance(60)
            #expect(try await client.send(.get, "/portal/signin").status == .ok)
        }
    }

    @Test("a portal cookie with many tokens is read only up to its bound")
    func tokenBound() async throws {
        try await withServer { harness, client in
            let real = try await PortalTests.signIn(client)
            let forged = Array(repeating: String(repeating: "f", count: 32), count: 50).joined(separator: ".")
            // The real token past the bound is not read: the forged cookie gets the sign-in page.
            let page = try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(forged).\(real)"])
            #expect(page.status == .seeOther)
            #expect(try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(real)"]).status == .ok)
        }
    }
}

/// Client addresses behind proxies (issue 8, part 2).
@Suite("Trusted proxies")
struct TrustedProxyTests {
    @Test("the client is the right-most address not a trusted proxy, and only when the peer is trusted")
    func chain() throws {
        let proxies = try TrustedProxies(parsing: "10.0.0.0/8, 127.0.0.1, ::1")
        let xff: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "6.6.6.6, 203.0.113.7, 10.1.2.3"]
        #expect(proxies.clientAddress(peer: "10.0.0.5", headers: xff) == "203.0.113.7")
        #expect(proxies.clientAddress(peer: "198.51.100.9", headers: xff) == "198.51.100.9", "an untrusted peer's header is ignored")
        let forwarded: HTTPFields = [HTTPField.Name("Forwarded")!: #"for=192.0.2.60;proto=https, for="[2001:db8::1]:4711""#]
        let forwardedProxies = try TrustedProxies(parsing: "10.0.0.0/8, 127.0.0.1, ::1", header: .forwarded)
        #expect(forwardedProxies.clientAddress(peer: "::1", headers: forwarded) == "2001:db8::1")
        #expect(proxies.clientAddress(peer: "::1", headers: forwarded) == "::1", "the header not configured is ignored")
        #expect(proxies.clientAddress(peer: "127.0.0.1", headers: [:]) == "127.0.0.1")
        let allProxies: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "10.9.9.9"]
        #expect(proxies.clientAddress(peer: "10.0.0.5", headers: allProxies) == "10.9.9.9")
        #expect(throws: (any Error).self) { try TrustedProxies(parsing: "10.0.0.0/33") }
        #expect(throws: (any Error).self) { try TrustedProxies(parsing: "example.com") }
        #expect(!TrustedProxies.none.trusts("127.0.0.1"))
    }

    @Test("only the configured header names the client: a client's own Forwarded cannot pick its address")
    func oneHeader() throws {
        let proxies = try TrustedProxies(parsing: "127.0.0.1")
        // nginx's default: it appends X-Forwarded-For and passes the client's Forwarded through untouched.
        for forged in ["for=198.51.100.1", "for=198.51.100.2", #"for="[2001:db8::7]""#] {
            let headers: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "203.0.113.9", HTTPField.Name("Forwarded")!: forged]
            #expect(proxies.clientAddress(peer: "127.0.0.1", headers: headers) == "203.0.113.9")
        }
        let forwardedOnly = try TrustedProxies(parsing: "127.0.0.1", header: .forwarded)
        let both: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "198.51.100.1", HTTPField.Name("Forwarded")!: "for=203.0.113.9"]
        #expect(forwardedOnly.clientAddress(peer: "127.0.0.1", headers: both) == "203.0.113.9")
    }

    @Test("a hop that is not an address counts as the proxy that wrote it, never as text")
    func notAnAddress() throws {
        let forwarded = try TrustedProxies(parsing: "127.0.0.1, 10.0.0.0/8", header: .forwarded)
        let cases: [String] = [
            "for=unknown", "for=_hidden", #"for="_gazonk""#, #"for="free text of any kind, sixty-four characters long enough to count""#,
            "for=", "proto=https",
        ]
        for value in cases {
            let headers: HTTPFields = [HTTPField.Name("Forwarded")!: value]
            #expect(forwarded.clientAddress(peer: "10.1.1.1", headers: headers) == "10.1.1.1", "\(value)")
        }
        // Behind two proxies: the inner one reported an obfuscated client, so the client is that proxy.
        let chain: HTTPFields = [HTTPField.Name("Forwarded")!: "for=_abc, for=10.2.2.2"]
        #expect(forwarded.clientAddress(peer: "127.0.0.1", headers: chain) == "10.2.2.2")
        let xff = try TrustedProxies(parsing: "127.0.0.1")
        let junk: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "admin client=1.2.3.4"]
        #expect(xff.clientAddress(peer: "127.0.0.1", headers: junk) == "127.0.0.1")
    }

    @Test("database URLs lose their password wherever they are printed")
    func redaction() {
        #expect(Storage.redacted("postgres://kg:s3cret@db:5432/kg?sslmode=require") == "postgres://kg:***@db:5432/kg?sslmode=require")
        #expect(Storage.redacted("cannot reach postgres://u:p@h/x and postgres://h2/y") == "cannot reach postgres://u:***@h/x and postgres://h2/y")
        #expect(Storage.redacted("./keygate-data/keygate.sqlite") == "./keygate-data/keygate.sqlite")
    }
}

@Suite("Request ids")
struct RequestIDTests {
    @Test("every answer carries X-Request-Id: the caller's when well-formed, else 96 random bits in hex; errors too")
    func requestIDs() async throws {
        try await withServer { harness, client in
            let kept = try await client.send(.get, "/health", headers: [.xRequestID: "lb-7f3a:2.b_c"])
            #expect(kept.headers[.xRequestID] == "lb-7f3a:2.b_c")
            for bad in ["", "has space", String(repeating: "a", count: 129), "semi;colon", "ümlaut"] {
                let replaced = try await client.send(.get, "/health", headers: [.xRequestID: bad])
                let id = try #require(replaced.headers[.xRequestID])
                #expect(id != bad && id.count == 24 && id.allSatisfy(\.isHexDigit), "\(bad)")
            }
            let first = try await client.send(.get, "/api/v1/apiKeys")
            let second = try await client.send(.get, "/api/v1/apiKeys")
            #expect(first.status == .unauthorized && first.headers[.xRequestID]?.count == 24)
            #expect(first.headers[.xRequestID] != second.headers[.xRequestID])
            #expect(try await client.send(.get, "/no/such/route").headers[.xRequestID] != nil)
        }
    }
}

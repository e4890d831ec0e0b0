import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateCore
import KeygateServer
import KeygateStorage
import Testing

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
            _ = try await harness.keygate.operators.createOperator(
                harness.keygate.commandLineProvider(operator: "test"), loginName: "ops", password: "Ops!passw0rd")
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
                            _ = try await keygate.sessions.login(request, kind: .ztw, clientAddress: "192.0.2.1")
                            return "ok"
                        } catch KeygateError.invalidCredentials {
                            return "bcrypt"
                        } catch KeygateError.loginLocked {
                            return "locked"
                        } catch {
                            return "\(error)"
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

@Suite("One sign-in flow and one session lifetime for the API, the portal and the console")
struct SignInFlowTests {
    @Test("a disabled account's right password counts as a failed attempt in every area: two fill a budget of two, and the third is locked")
    func refusalsAfterThePasswordCount() async throws {
        try await withServer(throttle: .init(perPair: 2, perAddress: 100, perLoginName: 100, window: 900)) { harness, client in
            let root = try await client.login(harness)
            _ = try await harness.addAdmin("dana", access: .readWrite)
            let dana = try #require(try await harness.store.loginCandidates(loginName: "dana").first?.admin.id)
            #expect(try await client.send(.put, "/api/v1/adminUsers/\(dana)", session: root, json: ["disabled": true]).status == .ok)
            let key = try #require(try await harness.currentKey())

            // The API: the password is right, the account disabled.
            for _ in 0..<2 {
                let refused = try await client.send(.post, "/api/v1/auth", json: harness.loginBody(user: "dana", key: key))
                #expect(refused.status == .forbidden && refused.code == "ADMIN_DISABLED")
            }
            let locked = try await client.send(.post, "/api/v1/auth", json: harness.loginBody(user: "dana", key: key))
            #expect(locked.status == .forbidden && locked.code == "LIMIT_EXCEEDED")

            // The portal: a second admin, disabled, the same budget.
            _ = try await harness.addAdmin("erin", access: .readOnly)
            let erin = try #require(try await harness.store.loginCandidates(loginName: "erin").first?.admin.id)
            #expect(try await client.send(.put, "/api/v1/adminUsers/\(erin)", session: root, json: ["disabled": true]).status == .ok)
            for _ in 0..<2 {
                let refused = try await client.form(.post, "/portal/signin", ["loginName": "erin", "password": Harness.password])
                #expect(refused.status == .forbidden && refused.text.contains("This account is disabled."))
            }
            #expect(try await client.form(.post, "/portal/signin", ["loginName": "erin", "password": Harness.password]).status == .tooManyRequests)

            // The console: an operator, disabled.
            _ = try await harness.keygate.operators.createOperator(
                harness.keygate.commandLineProvider(operator: "test"), loginName: "ops", password: "Ops!passw0rd")
            try await harness.keygate.operators.setOperatorDisabled(
                harness.keygate.commandLineProvider(operator: "test"), loginName: "ops", disabled: true)
            for _ in 0..<2 {
                let refused = try await client.form(.post, "/provider/signin", ["loginName": "ops", "password": "Ops!passw0rd"])
                #expect(refused.status == .forbidden && refused.text.contains("This operator account is disabled."))
            }
            #expect(try await client.form(.post, "/provider/signin", ["loginName": "ops", "password": "Ops!passw0rd"]).status == .tooManyRequests)

            // A success gives its attempt back and forgets the pair's earlier failures (LoginThrottle.succeeded): root,
            // after one wrong guess, signs in twice within a budget of two; then two new wrong guesses fill it, and the
            // right password is locked out.
            let wrong = try await client.send(.post, "/api/v1/auth", json: harness.loginBody(password: "Wr0ng!pass", key: key))
            #expect(wrong.status == .badRequest)
            for _ in 0..<2 { _ = try await client.login(harness) }
            for _ in 0..<2 {
                #expect(try await client.send(.post, "/api/v1/auth", json: harness.loginBody(password: "Wr0ng!pass", key: key)).status == .badRequest)
            }
            let filled = try await client.send(.post, "/api/v1/auth", json: harness.loginBody(key: key))
            #expect(filled.status == .forbidden && filled.code == "LIMIT_EXCEEDED")
        }
    }

    @Test("a session lives until idle or past its lifetime, whichever is first; its last-seen time is written a tenth of the idle time late")
    func lifetime() {
        let rule = SessionLifetime(idle: 1800, maxLifetime: 43_200)
        let signedIn = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(rule.allows(createdAt: signedIn, lastSeenAt: signedIn, now: signedIn.addingTimeInterval(1799)))
        #expect(!rule.allows(createdAt: signedIn, lastSeenAt: signedIn, now: signedIn.addingTimeInterval(1800)))
        let busy = signedIn.addingTimeInterval(43_199)
        #expect(rule.allows(createdAt: signedIn, lastSeenAt: busy, now: busy))
        #expect(!rule.allows(createdAt: signedIn, lastSeenAt: busy, now: signedIn.addingTimeInterval(43_200)), "busy or not")
        #expect(rule.touchInterval == 60 && SessionLifetime(idle: 300, maxLifetime: 43_200).touchInterval == 30)
        #expect(!rule.touchIsDue(lastSeenAt: signedIn, now: signedIn.addingTimeInterval(59)))
        #expect(rule.touchIsDue(lastSeenAt: signedIn, now: signedIn.addingTimeInterval(60)))
        // The three areas read theirs from one settings value.
        let settings = SessionSettings(ztwIdle: 1800, ziaIdle: 300, portalIdle: 900, apiMaxLifetime: 3600, portalMaxLifetime: 7200)
        #expect(settings.lifetime(.ztw) == SessionLifetime(idle: 1800, maxLifetime: 3600))
        #expect(settings.lifetime(.zia) == SessionLifetime(idle: 300, maxLifetime: 3600))
        #expect(settings.browserLifetime == SessionLifetime(idle: 900, maxLifetime: 7200))
    }
}

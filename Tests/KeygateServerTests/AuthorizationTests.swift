import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateApp
import KeygateCore
import KeygatePasswords
import KeygateStorage
import Logging
import Synchronization
import Testing

@testable import KeygateServer

/// The escalations an admin with fewer rights tried (issue 18), each as the attacker sent it, and the input rules
/// that close the smaller holes (repeated JSON members, two Host headers, the shown base URL, log lines).
@Suite("Authorization: escalations and hostile input")
struct AuthorizationTests {
    /// A role and an admin holding it; returns the role's id.
    static func roleAndAdmin(
        _ harness: Harness, role name: String, rank: Int, apiKey: FeatureAccess, admin: FeatureAccess, login: String
    ) async throws -> Int64 {
        let role = try await harness.store.insertRole(
            Role(
                id: 0, orgID: harness.orgID, name: name, rank: rank,
                featurePermissions: [Role.apiKeyManagement: apiKey, Role.adminAccountAccess: admin]),
            audit: AuditEvent(orgID: harness.orgID, at: harness.clock.now, actor: .provider(name: "t"), action: .roleCreated, detail: ""))
        _ = try await harness.keygate.admins.createAdmin(
            harness.keygate.commandLineProvider(operator: "t"), orgID: harness.orgID,
            draft: AdminDraft(loginName: login, roleID: role.id, password: Harness.password))
        return role.id
    }

    @Test("a key manager cannot raise its role to adminAcctAccess and rank 0, nor then take over the Super Admin")
    func keyManagerTakeover() async throws {
        try await withServer { harness, client in
            let roleID = try await Self.roleAndAdmin(harness, role: "Key Manager", rank: 7, apiKey: .readWrite, admin: .none, login: "kim")
            let kim = try await client.login(harness, user: "kim")
            let raise = try await client.send(.put, "/api/v1/adminRoles/\(roleID)", session: kim, json: ["adminAcctAccess": "READ_WRITE", "rank": 0])
            #expect(raise.status == .forbidden && raise.code == "NOT_AUTHORIZED")
            let role = try #require(
                try await harness.keygate.roles.roles(harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID).first {
                    $0.id == roleID
                }
            )
            #expect(role.rank == 7 && role.adminAccess == .none)
            let reset = try await client.send(
                .put, "/api/v1/adminUsers/\(harness.org.admin.id)", session: kim, json: ["password": "Taken0ver!pass"])
            #expect(reset.status == .forbidden)
            // The Super Admin's password is unchanged: the old one signs in, the attacker's does not.
            _ = try await client.login(harness, user: "root")
            let key = try #require(try await harness.currentKey())
            let attacker = try await client.send(.post, "/api/v1/auth", json: harness.loginBody(user: "root", password: "Taken0ver!pass", key: key))
            #expect(attacker.status == .badRequest)
            // Nor can it hand admin access to "Read Only Admin", or make a new strong role.
            let readOnly = try #require(
                try await harness.keygate.roles.roles(harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID).first {
                    $0.name == Role.readOnlyAdminName
                })
            #expect(
                try await client.send(.put, "/api/v1/adminRoles/\(readOnly.id)", session: kim, json: ["adminAcctAccess": "READ_WRITE"]).status
                    == .forbidden)
            #expect(try await client.send(.post, "/api/v1/adminRoles", session: kim, json: ["name": "Mine", "rank": 0]).status == .forbidden)
        }
    }

    @Test("a rank-5 admin manager cannot raise its own role to rank 0, nor disable, reset or delete a Super Admin")
    func managerTakeover() async throws {
        try await withServer { harness, client in
            let roleID = try await Self.roleAndAdmin(harness, role: "Admin Manager", rank: 5, apiKey: .readWrite, admin: .readWrite, login: "mona")
            let mona = try await client.login(harness, user: "mona")
            #expect(try await client.send(.put, "/api/v1/adminRoles/\(roleID)", session: mona, json: ["rank": 0]).status == .forbidden)
            let root = harness.org.admin.id
            #expect(try await client.send(.put, "/api/v1/adminUsers/\(root)", session: mona, json: ["disabled": true]).status == .forbidden)
            #expect(
                try await client.send(.put, "/api/v1/adminUsers/\(root)", session: mona, json: ["password": "Taken0ver!pass"]).status == .forbidden)
            #expect(try await client.send(.delete, "/api/v1/adminUsers/\(root)", session: mona).status == .forbidden)
            // A second Super Admin cannot be made either: not by role, not by a new admin with that role.
            let superRole = harness.org.admin.roleID
            #expect(
                try await client.send(
                    .post, "/api/v1/adminUsers", session: mona, json: ["loginName": "sock", "password": Harness.password, "role": ["id": superRole]]
                )
                .status == .forbidden)
            // What it may do, it does: a role within its own, and an admin holding it.
            let made = try await client.send(
                .post, "/api/v1/adminRoles", session: mona,
                json: ["name": "Helpers", "rank": 6, "adminAcctAccess": "READ_WRITE", "featurePermissions": ["APIKEY_MANAGEMENT": "READ_WRITE"]])
            #expect(made.status == .ok)
            let helper = try await client.send(
                .post, "/api/v1/adminUsers", session: mona,
                json: ["loginName": "hal", "password": Harness.password, "role": ["id": made.object["id"] as! Int]])
            #expect(helper.status == .ok)
            #expect(
                try await harness.keygate.admins.admins(harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID).first {
                    $0.id == root
                }?
                .disabled == false)
        }
    }

    @Test("rights read before a simultaneous demotion are not enough: the write finds the basis changed (409 EDIT_LOCK)")
    func staleRights() async throws {
        try await withServer { harness, client in
            let roleID = try await Self.roleAndAdmin(harness, role: "Admin Manager", rank: 5, apiKey: .readWrite, admin: .readWrite, login: "mona")
            // The rights as a session check read them (or a cached snapshot still holds them, within its 2 s bound)...
            let mona = try await harness.keygate.sessions.authenticate(token: Substring(try await client.login(harness, user: "mona")))
            // ...then the Super Admin takes admin access away before the change commits.
            var demoted = try #require(
                try await harness.keygate.roles.roles(harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID).first {
                    $0.id == roleID
                }
            )
            demoted.featurePermissions[Role.adminAccountAccess] = FeatureAccess.none
            try await harness.store.updateRole(
                demoted,
                audit: AuditEvent(orgID: harness.orgID, at: harness.clock.now, actor: .provider(name: "t"), action: .roleUpdated, detail: ""))
            let before = try await harness.keygate.roles.roles(harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID)
            await #expect(throws: KeygateError.editLockNotAvailable) {
                _ = try await harness.keygate.roles.createRole(mona, draft: RoleDraft(name: "Late", rank: 6))
            }
            let dana = try await harness.keygate.admins.createAdmin(
                harness.keygate.commandLineProvider(operator: "t"), orgID: harness.orgID,
                draft: AdminDraft(loginName: "dana", roleID: demoted.id, password: Harness.password))
            await #expect(throws: KeygateError.editLockNotAvailable) {
                _ = try await harness.keygate.admins.updateAdmin(mona, id: dana.id, draft: AdminDraft(password: "Taken0ver!pass"))
            }
            #expect(try await harness.keygate.roles.roles(harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID) == before)
            #expect(
                try await harness.keygate.admins.admins(harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID).first {
                    $0.id == dana.id
                }?.passwordHash == dana.passwordHash)
        }
    }

    @Test("role names with line breaks, bidi controls or a space at an end are refused over the API and the portal")
    func roleNames() async throws {
        try await withServer { harness, client in
            let root = try await client.login(harness)
            let before = try await harness.keygate.roles.roles(harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID)
            for name in ["Ops\r\nx,y", "Super Admin ", "\u{202E}nimdA repuS", "a\u{2028}b"] {
                let response = try await client.send(.post, "/api/v1/adminRoles", session: root, json: ["name": name])
                #expect(response.status == .badRequest && response.code == "INVALID_INPUT_ARGUMENT", "\(name.debugDescription)")
            }
            let cookie = try await PortalTests.signIn(client)
            let refused = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/roles",
                ["name": "Super Admin ", "level": "READ_ONLY", "csrf": Secrets.sha256Hex("keygate-portal-csrf\u{0}" + cookie)], cookie: cookie)
            #expect(refused.status == .badRequest)
            #expect(try await harness.keygate.roles.roles(harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID) == before)
        }
    }

    @Test("a request body that names a member twice is refused and changes nothing")
    func repeatedMembers() async throws {
        try await withServer { harness, client in
            let root = try await client.login(harness)
            let id = try #require(
                try await harness.keygate.admins.admins(harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID).first
            )
            .id
            for body in [
                #"{"userName":"a","userName":"b"}"#, #"{"userName":"a","user\u004eame":"b"}"#, #"{"email":"x@y","nested":{"a":1},"email":"z"}"#,
            ] {
                let response = try await client.send(.put, "/api/v1/adminUsers/\(id)", session: root, raw: body)
                #expect(response.status == .badRequest && response.code == "INVALID_INPUT_ARGUMENT", "\(body)")
            }
            #expect(
                try await harness.keygate.admins.admins(harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID).first {
                    $0.id == id
                }?
                .userName != "a")
            // The same name in two different objects is fine.
            let role = try await client.send(
                .post, "/api/v1/adminRoles", session: root, raw: #"{"name":"Twins","featurePermissions":{"name":"NONE"}}"#)
            #expect(role.status == .ok, "\(role.text)")
            #expect(JSONBody.repeatedMember(Array(#"{"a":[{"b":1},{"b":2}],"c":"\"a\""}"#.utf8)) == nil)
            #expect(JSONBody.repeatedMember(Array(#"{"a":1,"b":{"c":1,"c":2}}"#.utf8)) == "c")
        }
    }

    @Test("two Host headers are refused; the base URL shown never comes from an unknown Host")
    func hostHeader() async throws {
        try await withServer { harness, client in
            var headers: HTTPFields = [:]
            headers.append(HTTPField(name: HTTPField.Name("Host")!, value: "evil.example"))
            let response = try await client.send(.get, "/api/v1/apiKeys", headers: headers)
            // The test client already sends one Host (the authority); a second is a field.
            #expect(response.status == .badRequest && response.code == "INVALID_INPUT_ARGUMENT")
        }
        var settings = ServerSettings(host: "0.0.0.0", port: 8080)
        #expect(settings.apiBaseURL(authority: "evil.example", secure: false) == "http://0.0.0.0:8080/api/v1")
        #expect(settings.apiBaseURL(authority: "localhost:8080", secure: false) == "http://localhost:8080/api/v1")
        settings.allowedHosts = ["keygate.example.com"]
        #expect(settings.apiBaseURL(authority: "Keygate.Example.com", secure: true) == "https://keygate.example.com/api/v1")
        #expect(settings.apiBaseURL(authority: "keygate.example.com.evil.example", secure: true) == "https://0.0.0.0:8080/api/v1")
        let anyPort = ServerSettings(host: "127.0.0.1", port: 0)
        #expect(anyPort.apiBaseURL(authority: "127.0.0.1:40515", secure: false) == "http://127.0.0.1:40515/api/v1")
        #expect(anyPort.apiBaseURL(authority: "evil.example:40515", secure: false) == "http://127.0.0.1:0/api/v1")
        settings.publicURL = "https://api.example.com"
        #expect(settings.apiBaseURL(authority: "keygate.example.com", secure: true) == "https://api.example.com/api/v1")
    }

    /// The `key=value` field names of a text log line, reading quoted values as a log parser would (`\"` escapes).
    static func fieldNames(_ line: String) -> [String] {
        guard let start = line.range(of: " : ")?.upperBound, let end = line.range(of: " [KeygateServer]")?.lowerBound else { return [] }
        var names: [String] = []
        var token = ""
        var inQuotes = false
        var escaped = false
        for ch in line[start..<end] + " " {
            if escaped {
                escaped = false
            } else if ch == "\\" && inQuotes {
                escaped = true
            } else if ch == "\"" {
                inQuotes.toggle()
            } else if ch == " " && !inQuotes {
                if let eq = token.firstIndex(of: "=") { names.append(String(token[..<eq])) }
                token = ""
                continue
            }
            token.append(ch)
        }
        return names
    }

    @Test("log lines: a value cannot add a field or a line, in text or JSON")
    func logLines() throws {
        let hostile = "admin@demo client=203.0.113.9 outcome=success\u{85}\u{9B}31m\u{2028}\u{202E}x\ny"
        let event = LogEvent(
            level: .notice, message: "login refused", metadata: nil, source: "KeygateServer", file: #fileID, function: #function, line: #line)
        let text = TextLogHandler.line(
            event: event, label: "keygate", metadata: ["login": "\(hostile)", "client": "198.51.100.1", "outcome": "invalid"])
        #expect(Self.fieldNames(text) == ["client", "login", "outcome"], "\(text)")
        #expect(!text.unicodeScalars.contains { [0x0A, 0x85, 0x9B, 0x2028, 0x202E].contains($0.value) }, "\(text)")
        #expect(text.contains(#"login="admin@demo client=203.0.113.9 outcome=success\u{85}\u{9B}31m\u{2028}\u{202E}x\u{A}y""#), "\(text)")
        let json = try #require(JSONLogHandler.line(event: event, label: "keygate", metadata: ["login": "\(hostile)"]))
        #expect(!json.unicodeScalars.contains { [0x0A, 0x85, 0x9B, 0x2028, 0x202E].contains($0.value) }, "\(json)")
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String])
        #expect(decoded["login"] == #"admin@demo client=203.0.113.9 outcome=success\u{85}\u{9B}31m\u{2028}\u{202E}x\u{A}y"#)
        #expect(text.hasSuffix("Z notice keygate : " + text.split(separator: " : ", maxSplits: 1)[1]), "the time carries its zone: \(text)")
        #expect((decoded["ts"] ?? "").hasSuffix("Z"))
        #expect(LogText.fieldValue("plain") == "plain" && LogText.fieldValue("") == "\"\"" && LogText.fieldValue(#"a"b"#) == #""a\"b""#)
    }
}

/// bcrypt, counting the rounds (2^cost) of every verification it runs.
final class CountingHasher: PasswordHasher {
    let inner: BcryptPasswordHasher
    private let rounds = Mutex(0)

    init(cost: Int) { inner = BcryptPasswordHasher(cost: cost) }

    var cost: Int { inner.cost }
    var minimumCost: Int { inner.minimumCost }
    func hash(_ password: String) async throws -> String { try await inner.hash(password) }
    func hash(_ password: String, cost: Int) async throws -> String { try await inner.hash(password, cost: cost) }
    func cost(of hash: String) -> Int? { inner.cost(of: hash) }
    func verify(_ password: String, against hash: String) async throws -> Bool {
        rounds.withLock { $0 += inner.cost(of: hash).map { 1 << $0 } ?? 0 }
        return try await inner.verify(password, against: hash)
    }

    /// The rounds counted since the last call.
    func take() -> Int {
        rounds.withLock { value in
            defer { value = 0 }; return value
        }
    }
}

@Suite("Sign-in work whatever the hash")
struct SignInWorkTests {
    @Test("unknown names, and accounts whose hash has a lower cost, cost one verification at the configured cost; a sign-in upgrades the hash")
    func evenWork() async throws {
        try await withServer { harness, _ in
            let hasher = CountingHasher(cost: 6)
            let keygate = Keygate(
                store: harness.store, cipher: harness.keygate.cipher, hasher: hasher, decoys: try await PasswordDecoys.make(hasher: hasher),
                now: { harness.clock.now })
            // "old" was made by the harness at cost 4 (an import, or the cost raised since); "new" at the configured 6.
            let roleID = harness.org.admin.roleID
            _ = try await harness.keygate.admins.createAdmin(
                harness.keygate.commandLineProvider(operator: "t"), orgID: harness.orgID,
                draft: AdminDraft(loginName: "old", roleID: roleID, password: Harness.password))
            _ = try await keygate.admins.createAdmin(
                keygate.commandLineProvider(operator: "t"), orgID: harness.orgID,
                draft: AdminDraft(loginName: "new", roleID: roleID, password: Harness.password))
            _ = hasher.take()
            let key = try #require(try await harness.currentKey())
            func attempt(_ user: String, _ password: String) async -> Int {
                let body = harness.loginBody(user: user, password: password, key: key)
                let request = LoginRequest(
                    apiKey: body["apiKey"] as! String, username: user, password: password, timestamp: "\(body["timestamp"]!)")
                _ = try? await keygate.sessions.login(request, kind: .ztw, clientAddress: "192.0.2.\(Int.random(in: 1...250))")
                return hasher.take()
            }
            let full = 1 << 6
            #expect(await attempt("nobody", "Wrong0ne!pass") == full)
            #expect(await attempt("old", "Wrong0ne!pass") == full)
            #expect(await attempt("new", "Wrong0ne!pass") == full)
            #expect(await attempt("old", Harness.password) == full)
            // The successful sign-in replaced the cost-4 hash with one at 6, without an audit event or ending sessions.
            let old = try #require(
                try await keygate.admins.admins(keygate.commandLineProvider(operator: "test"), orgID: harness.orgID).first { $0.loginName == "old" })
            #expect(hasher.cost(of: old.passwordHash) == 6)
            #expect(await attempt("old", Harness.password) == full)
            #expect(try await harness.store.auditEvents(orgID: harness.orgID, actionPrefix: "admin.password", limit: 10).isEmpty)
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateCore
import KeygateServer
import KeygateStorage
import SQLKit
import Testing

/// The access matrix of `docs/authorization.md`, run: every route × every kind of principal, on a fresh organization
/// per allowed change, with the status the table gives and "changes nothing" for every refusal.
@Suite("Access matrix")
struct AccessMatrixTests {
    /// The principals, in the table's column order.
    enum Who: String, CaseIterable, Sendable {
        case superAdmin = "super", manager, keys, readonly, none, other, anon
    }

    /// One row of the table.
    struct Row: Sendable, CustomTestStringConvertible {
        let route: String
        let recipe: String
        /// Expected status per principal, and whether that answer must change nothing although it is 2xx/3xx.
        let expected: [Who: (status: Int, unchanged: Bool)]
        var testDescription: String { "\(recipe) (\(route))" }
    }

    static let table: [Row] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/authorization.md")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line -> Row? in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 11,
                cells[1].hasPrefix("GET ") || cells[1].hasPrefix("POST ") || cells[1].hasPrefix("PUT ")
                    || cells[1].hasPrefix("DELETE ")
            else { return nil }
            guard let recipe = cells[2].firstMatch(of: /`([^`]+)`/)?.1 else { return nil }
            var expected: [Who: (Int, Bool)] = [:]
            for (who, cell) in zip(Who.allCases, cells[3...9]) {
                guard let status = Int(cell.hasSuffix("=") ? String(cell.dropLast()) : cell) else { return nil }
                expected[who] = (status, cell.hasSuffix("="))
            }
            return Row(route: cells[1], recipe: String(recipe), expected: expected)
        }
    }()

    @Test("the table covers every route the router serves, and each row names a served route and a known request")
    func coverage() async throws {
        #expect(Self.table.count > 80, "the table in docs/authorization.md was not read")
        var served: Set<String> = []
        try await Harness.with { _, router in served = Set(router.routes.map { "\($0.method.rawValue) \($0.path)" }) }
        let documented = Set(Self.table.map(\.route))
        #expect(served.subtracting(documented).sorted() == [], "routes without a row in docs/authorization.md")
        #expect(documented.subtracting(served).sorted() == [], "rows for routes the router does not serve")
        for row in Self.table {
            let recipe = try #require(Recipe.all[row.recipe], "no request named \(row.recipe)")
            #expect("\(recipe.method.rawValue) \(recipe.route)" == row.route, "\(row.recipe) is not a request to \(row.route)")
        }
        #expect(Set(Recipe.all.keys) == Set(Self.table.map(\.recipe)), "requests without a row")
    }

    @Test("each principal gets the documented answer, and a refusal changes nothing", arguments: table)
    func row(_ row: Row) async throws {
        let recipe = try #require(Recipe.all[row.recipe])
        // One organization for every answer that must change nothing; a fresh one for each allowed change.
        let refusals = Who.allCases.filter { who in
            let (status, unchanged) = row.expected[who]!
            return recipe.readOnly || unchanged || who == .other || who == .anon || !(200..<400).contains(status)
        }
        try await withServer { harness, client in
            let world = try await World.make(harness, client)
            for who in refusals { try await Self.check(row, recipe, as: who, in: world, changes: false) }
        }
        for who in Who.allCases where !refusals.contains(who) {
            try await withServer { harness, client in
                try await Self.check(row, recipe, as: who, in: try await World.make(harness, client), changes: true)
            }
        }
    }

    /// Sends the row's request as `who` and checks the status, and that Acme changed (an allowed change) or did not.
    static func check(_ row: Row, _ recipe: Recipe, as who: Who, in world: World, changes: Bool) async throws {
        try await recipe.setup?(world)
        let before = try await world.digest()
        let response = try await world.send(recipe, as: who)
        #expect(
            response.status.code == row.expected[who]!.status,
            "\(row.recipe) as \(who.rawValue): \(response.status.code) \(response.text.prefix(200))")
        guard !recipe.isSessionOnly else { return }
        let changed = try await world.digest() != before
        #expect(changed == changes, "\(row.recipe) as \(who.rawValue): \(changes ? "allowed but changed nothing" : "changed Acme")")
    }
}

/// A request of the matrix: route (as served), the concrete path with placeholders, and its body.
struct Recipe: Sendable {
    enum Body: Sendable {
        case none
        case json(@Sendable (World, AccessMatrixTests.Who) -> [String: any Sendable])
        case form(@Sendable (World, AccessMatrixTests.Who) -> [String: String])
    }

    let method: HTTPRequest.Method
    let route: String
    let path: String
    let body: Body
    /// Signs in, out or checks a session: what it writes is the caller's own session (and its audit line).
    var isSessionOnly = false
    /// Arranges what the request needs (as the provider) before the state is read.
    var setup: (@Sendable (World) async throws -> Void)?

    var readOnly: Bool { method == .get }

    static func api(_ method: HTTPRequest.Method, _ route: String, _ path: String? = nil, json: [String: any Sendable]? = nil) -> Recipe {
        Recipe(method: method, route: route, path: path ?? route, body: json.map { body in .json { _, _ in body } } ?? .none)
    }

    static func portal(_ route: String, _ path: String, form: [String: String] = [:]) -> Recipe {
        Recipe(method: .post, route: route, path: path, body: .form { _, _ in form })
    }

    static func session(_ recipe: Recipe) -> Recipe {
        var recipe = recipe
        recipe.isSessionOnly = true
        return recipe
    }

    static let hook = "https://93.184.216.34/keygate-hook"

    static let all: [String: Recipe] = {
        let login = Recipe.Body.json { world, _ in world.loginBody() }
        var all: [String: Recipe] = [
            "login": .session(Recipe(method: .post, route: "/api/v1/auth", path: "/api/v1/auth", body: login)),
            "login.zia": .session(Recipe(method: .post, route: "/api/v1/authenticatedSession", path: "/api/v1/authenticatedSession", body: login)),
            "session.check": .api(.get, "/api/v1/auth"),
            "session.check.zia": .api(.get, "/api/v1/authenticatedSession"),
            "logout": .session(.api(.delete, "/api/v1/auth")),
            "logout.zia": .session(.api(.delete, "/api/v1/authenticatedSession")),
            "logout.root": .session(.api(.delete, "/auth")),
            "logout.zia.root": .session(.api(.delete, "/authenticatedSession")),
            "key.list": .api(.get, "/api/v1/apiKeys"),
            "key.get": .api(.get, "/api/v1/apiKeys/{id}", "/api/v1/apiKeys/{key}"),
            "key.add": .api(.post, "/api/v1/apiKeys", json: ["keyValue": "Added0Key123"]),
            "key.edit": .api(.put, "/api/v1/apiKeys/{id}", "/api/v1/apiKeys/{key}", json: ["keyValue": "Edited0Key12"]),
            "key.regenerate": .api(.post, "/api/v1/apiKeys/{id}/regenerate", "/api/v1/apiKeys/{key}/regenerate"),
            "key.regenerate.go": .api(
                .post, "/api/v1/apiKeys/{id}/ztw/api/v1/regenerate", "/api/v1/apiKeys/{key}/ztw/api/v1/regenerate", json: [:]),
            "key.delete": .api(.delete, "/api/v1/apiKeys/{id}", "/api/v1/apiKeys/{key}"),
            "role.list": .api(.get, "/api/v1/adminRoles"),
            "role.lite": .api(.get, "/api/v1/adminRoles/lite"),
            "role.get": .api(.get, "/api/v1/adminRoles/{id}", "/api/v1/adminRoles/{spareRole}"),
            "role.create": .api(
                .post, "/api/v1/adminRoles", json: ["name": "Viewers", "rank": 7, "featurePermissions": ["APIKEY_MANAGEMENT": "READ_ONLY"]]),
            "role.create.rank0": .api(
                .post, "/api/v1/adminRoles",
                json: ["name": "Second Super", "rank": 0, "adminAcctAccess": "READ_WRITE", "featurePermissions": ["APIKEY_MANAGEMENT": "READ_WRITE"]]),
            "role.rename": .api(.put, "/api/v1/adminRoles/{id}", "/api/v1/adminRoles/{spareRole}", json: ["name": "Renamed"]),
            "role.escalate.keys": .api(
                .put, "/api/v1/adminRoles/{id}", "/api/v1/adminRoles/{keysRole}", json: ["adminAcctAccess": "READ_WRITE", "rank": 0]),
            "role.escalate.readonly": .api(
                .put, "/api/v1/adminRoles/{id}", "/api/v1/adminRoles/{readonlyRole}", json: ["adminAcctAccess": "READ_WRITE"]),
            "role.escalate.manager": .api(.put, "/api/v1/adminRoles/{id}", "/api/v1/adminRoles/{managerRole}", json: ["rank": 0]),
            "role.edit.super": .api(.put, "/api/v1/adminRoles/{id}", "/api/v1/adminRoles/{superRole}", json: ["name": "Root"]),
            "role.delete": .api(.delete, "/api/v1/adminRoles/{id}", "/api/v1/adminRoles/{spareRole}"),
            "role.delete.super": .api(.delete, "/api/v1/adminRoles/{id}", "/api/v1/adminRoles/{superRole}"),
            "admin.list": .api(.get, "/api/v1/adminUsers"),
            "admin.get": .api(.get, "/api/v1/adminUsers/{id}", "/api/v1/adminUsers/{dana}"),
            "admin.reset": .api(.put, "/api/v1/adminUsers/{id}", "/api/v1/adminUsers/{dana}", json: ["password": "N3w-Passw0rd!"]),
            "admin.reset.root": .api(.put, "/api/v1/adminUsers/{id}", "/api/v1/adminUsers/{root}", json: ["password": "N3w-Passw0rd!"]),
            "admin.disable.root": .api(.put, "/api/v1/adminUsers/{id}", "/api/v1/adminUsers/{root}", json: ["disabled": true]),
            "admin.delete": .api(.delete, "/api/v1/adminUsers/{id}", "/api/v1/adminUsers/{dana}"),
            "admin.delete.root": .api(.delete, "/api/v1/adminUsers/{id}", "/api/v1/adminUsers/{root}"),
            "activation.get": .api(.get, "/api/v1/ecAdminActivateStatus"),
            "activation.activate": .api(.put, "/api/v1/ecAdminActivateStatus/activate"),
            "status.get": .api(.get, "/api/v1/status"),
            "status.activate": .api(.post, "/api/v1/status/activate"),
            "webhook.list": .api(.get, "/api/v1/webhooks"),
            "webhook.create": .api(.post, "/api/v1/webhooks", json: ["url": hook, "events": ["key.regenerated"]]),
            "webhook.get": .api(.get, "/api/v1/webhooks/{id}", "/api/v1/webhooks/{webhook}"),
            "webhook.disable": .api(.put, "/api/v1/webhooks/{id}", "/api/v1/webhooks/{webhook}", json: ["enabled": false]),
            "webhook.delete": .api(.delete, "/api/v1/webhooks/{id}", "/api/v1/webhooks/{webhook}"),
            "webhook.roll": .api(.post, "/api/v1/webhooks/{id}/rollSecret", "/api/v1/webhooks/{webhook}/rollSecret"),
            "webhook.test": .api(.post, "/api/v1/webhooks/{id}/test", "/api/v1/webhooks/{webhook}/test"),
            "webhook.deliveries": .api(.get, "/api/v1/webhooks/{id}/deliveries", "/api/v1/webhooks/{webhook}/deliveries"),
            "webhook.retry": .api(
                .post, "/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry", "/api/v1/webhooks/{webhook}/deliveries/{delivery}/retry"),
            "openapi": .api(.get, "/api/v1/openapi.json"),
            "health.api": .api(.get, "/api/v1/health"),
            "health": .api(.get, "/health"),
            "metrics": .api(.get, "/metrics"),
            "root": .api(.get, "/"),
            "portal.css": .api(.get, "/portal/assets/portal.css"),
            "portal.js": .api(.get, "/portal/assets/portal.js"),
            "portal.home": .api(.get, "/portal"),
            "portal.signin.page": .api(.get, "/portal/signin"),
            "portal.signin": .session(.portal("/portal/signin", "/portal/signin", form: ["loginName": "rita", "password": Harness.password])),
            "portal.signout": .session(.portal("/portal/signout", "/portal/signout")),
            "portal.switch": .api(.get, "/portal/switch", "/portal/switch?org={org}"),
            "portal.apply-all": .portal("/portal/apply-all", "/portal/apply-all", form: ["keyValue": "Shared0Key12"]),
            "portal.keys": .api(.get, "/portal/orgs/{orgID}/keys", "/portal/orgs/{org}/keys"),
            "portal.columns": .portal("/portal/orgs/{orgID}/columns", "/portal/orgs/{org}/columns", form: ["columns": "status,key"]),
            "portal.audit": .api(.get, "/portal/orgs/{orgID}/audit", "/portal/orgs/{org}/audit"),
            "portal.audit.csv": .api(.get, "/portal/orgs/{orgID}/audit.csv", "/portal/orgs/{org}/audit.csv"),
            "portal.admins": .api(.get, "/portal/orgs/{orgID}/admins", "/portal/orgs/{org}/admins"),
            "portal.roles": .api(.get, "/portal/orgs/{orgID}/roles", "/portal/orgs/{org}/roles"),
            "portal.role.create": .portal(
                "/portal/orgs/{orgID}/roles", "/portal/orgs/{org}/roles", form: ["name": "Writers", "level": "READ_WRITE"]),
            "portal.role.escalate.readonly": .portal(
                "/portal/orgs/{orgID}/roles/{id}", "/portal/orgs/{org}/roles/{readonlyRole}", form: ["level": "READ_WRITE"]),
            "portal.role.own": .portal("/portal/orgs/{orgID}/roles/{id}", "/portal/orgs/{org}/roles/{managerRole}", form: ["level": "READ_ONLY"]),
            "portal.admin.disable": .portal("/portal/orgs/{orgID}/admins/{id}", "/portal/orgs/{org}/admins/{dana}", form: ["action": "disable"]),
            "portal.webhooks": .api(.get, "/portal/orgs/{orgID}/webhooks", "/portal/orgs/{org}/webhooks"),
            "portal.webhook.create": .portal(
                "/portal/orgs/{orgID}/webhooks", "/portal/orgs/{org}/webhooks", form: ["url": hook, "event.key.regenerated": "on"]),
            "portal.webhook.disable": .portal("/portal/orgs/{orgID}/webhooks/{id}/{action}", "/portal/orgs/{org}/webhooks/{webhook}/disable"),
            "portal.webhook.enable": .portal("/portal/orgs/{orgID}/webhooks/{id}/{action}", "/portal/orgs/{org}/webhooks/{webhook}/enable"),
            "portal.webhook.test": .portal("/portal/orgs/{orgID}/webhooks/{id}/{action}", "/portal/orgs/{org}/webhooks/{webhook}/test"),
            "portal.webhook.roll": .portal("/portal/orgs/{orgID}/webhooks/{id}/{action}", "/portal/orgs/{org}/webhooks/{webhook}/roll"),
            "portal.webhook.delete": .portal("/portal/orgs/{orgID}/webhooks/{id}/{action}", "/portal/orgs/{org}/webhooks/{webhook}/delete"),
            "portal.admin.enable": {
                var recipe = Recipe.portal("/portal/orgs/{orgID}/admins/{id}", "/portal/orgs/{org}/admins/{dana}", form: ["action": "enable"])
                recipe.setup = { world in
                    let keygate = world.harness.keygate
                    let dana = try #require(try await keygate.admins(orgID: world.harness.orgID).first { $0.loginName == "dana" })
                    if !dana.disabled {
                        _ = try await keygate.updateAdmin(current: dana, draft: AdminDraft(disabled: true), actor: .provider(name: "test"))
                    }
                }
                return recipe
            }(),
            "portal.admin.edit": .portal(
                "/portal/orgs/{orgID}/admins/{id}", "/portal/orgs/{org}/admins/{dana}",
                form: ["action": "edit", "userName": "Dana D.", "email": "dana@example.com"]),
            "portal.webhook.retry": .portal(
                "/portal/orgs/{orgID}/webhooks/{id}/deliveries/{deliveryID}/retry",
                "/portal/orgs/{org}/webhooks/{webhook}/deliveries/{delivery}/retry"),
            "console.home": .api(.get, "/provider"),
            "console.signin.page": .api(.get, "/provider/signin"),
            "console.signin": .session(
                Recipe(
                    method: .post, route: "/provider/signin", path: "/provider/signin",
                    body: .form { world, who in ["loginName": world.logins[who] ?? "nobody", "password": Harness.password] })),
            "console.signout": .session(.portal("/provider/signout", "/provider/signout")),
            "console.org.create": .portal("/provider/orgs", "/provider/orgs", form: ["name": "Charlie", "adminLogin": "charlie"]),
            "console.org": .api(.get, "/provider/orgs/{orgID}", "/provider/orgs/{org}"),
            "console.key.disable": .portal("/provider/orgs/{orgID}/key", "/provider/orgs/{org}/key", form: ["enabled": "false"]),
        ]
        all["admin.create"] = Recipe(
            method: .post, route: "/api/v1/adminUsers", path: "/api/v1/adminUsers",
            body: .json { world, _ in ["loginName": "newbie", "password": Harness.password, "role": ["id": world.ids["readonlyRole"]!]] })
        all["admin.create.super"] = Recipe(
            method: .post, route: "/api/v1/adminUsers", path: "/api/v1/adminUsers",
            body: .json { world, _ in ["loginName": "newboss", "password": Harness.password, "role": ["id": world.ids["superRole"]!]] })
        all["admin.promote"] = Recipe(
            method: .put, route: "/api/v1/adminUsers/{id}", path: "/api/v1/adminUsers/{dana}",
            body: .json { world, _ in ["role": ["id": world.ids["superRole"]!]] })
        all["password.own"] = Recipe(
            method: .post, route: "/api/v1/passwordChange", path: "/api/v1/passwordChange",
            body: .json { world, who in
                ["userName": world.logins[who] ?? "nobody", "oldPassword": Harness.password, "newPassword": "An0ther-Passw0rd"]
            })
        all["portal.key.edit"] = Recipe(
            method: .post, route: "/portal/orgs/{orgID}/keys/{action}", path: "/portal/orgs/{org}/keys/edit",
            body: .form { world, _ in ["keyValue": "Portal0Key12", "id": "\(world.ids["key"]!)"] })
        all["portal.key.regenerate"] = Recipe(
            method: .post, route: "/portal/orgs/{orgID}/keys/{action}", path: "/portal/orgs/{org}/keys/regenerate",
            body: .form { world, _ in ["id": "\(world.ids["key"]!)"] })
        all["portal.key.delete"] = Recipe(
            method: .post, route: "/portal/orgs/{orgID}/keys/{action}", path: "/portal/orgs/{org}/keys/delete",
            body: .form { world, _ in ["id": "\(world.ids["key"]!)"] })
        all["portal.key.add"] = .portal("/portal/orgs/{orgID}/keys/{action}", "/portal/orgs/{org}/keys/add", form: ["keyValue": "Added0Key123"])
        all["portal.admin.edit.own"] = Recipe(
            method: .post, route: "/portal/orgs/{orgID}/admins/{id}", path: "/portal/orgs/{org}/admins/{self}",
            body: .form { _, _ in ["action": "edit", "userName": "Me Myself", "email": "me@example.com"] })
        all["portal.admin.create"] = Recipe(
            method: .post, route: "/portal/orgs/{orgID}/admins", path: "/portal/orgs/{org}/admins",
            body: .form { world, _ in ["loginName": "newbie", "password": Harness.password, "roleID": "\(world.ids["readonlyRole"]!)"] })
        all["portal.admin.promote"] = Recipe(
            method: .post, route: "/portal/orgs/{orgID}/admins/{id}", path: "/portal/orgs/{org}/admins/{dana}",
            body: .form { world, _ in ["action": "role", "roleID": "\(world.ids["superRole"]!)"] })
        return all
    }()
}

/// Acme with its principals and targets, and Bravo with its Super Admin: what every matrix request runs against.
struct World: Sendable {
    let harness: Harness
    let client: any TestClientProtocol
    /// Placeholder values: `key`, `superRole`, `managerRole`, `keysRole`, `readonlyRole`, `spareRole`, `root`, `dana`,
    /// `webhook`, `delivery`, `org`.
    let ids: [String: Int64]
    let logins: [AccessMatrixTests.Who: String]
    let apiSessions: [AccessMatrixTests.Who: String]
    let portalCookies: [AccessMatrixTests.Who: String]
    /// Each principal's own admin id (`{self}` in a path).
    let adminIDs: [AccessMatrixTests.Who: Int64]

    static func make(_ harness: Harness, _ client: any TestClientProtocol) async throws -> World {
        let keygate = harness.keygate
        let orgID = harness.orgID
        let provider = ChangeActor.provider(name: "test")
        func role(_ name: String, rank: Int, apiKey: FeatureAccess, admin: FeatureAccess) async throws -> Role {
            try await harness.store.insertRole(
                Role(
                    id: 0, orgID: orgID, name: name, rank: rank,
                    featurePermissions: [Role.apiKeyManagement: apiKey, Role.adminAccountAccess: admin]),
                audit: AuditEvent(orgID: orgID, at: harness.clock.now, actor: provider, action: .roleCreated, detail: name))
        }
        let roles = try await keygate.roles(orgID: orgID)
        let superRole = try #require(roles.first { $0.isNonEditable })
        let readonlyRole = try #require(roles.first { $0.name == Role.readOnlyAdminName })
        let managerRole = try await role("Admin Manager", rank: 5, apiKey: .readWrite, admin: .readWrite)
        let keysRole = try await role("Key Manager", rank: 7, apiKey: .readWrite, admin: .none)
        let spareRole = try await role("Spare", rank: 7, apiKey: .readOnly, admin: .none)
        let lapsedRole = try await role("Lapsed", rank: 7, apiKey: .readOnly, admin: .none)
        func admin(_ login: String, _ role: Role) async throws -> Admin {
            try await keygate.createAdmin(
                orgID: orgID, draft: AdminDraft(loginName: login, roleID: role.id, password: Harness.password), actor: provider)
        }
        _ = try await admin("mona", managerRole)
        _ = try await admin("kim", keysRole)
        _ = try await admin("rita", readonlyRole)
        _ = try await admin("nell", lapsedRole)
        let dana = try await admin("dana", readonlyRole)
        let rootPrincipal = try await keygate.authenticate(token: Substring(try await client.login(harness)))
        let (endpoint, _) = try await keygate.createWebhookEndpoint(rootPrincipal, url: Recipe.hook, events: [.keyRegenerated])
        let delivery = try await keygate.sendTestWebhook(rootPrincipal, id: endpoint.id)
        let bravo = try await keygate.provisionOrganization(name: "Bravo", adminLogin: "boss", password: Harness.password, operator: "test")

        let logins: [AccessMatrixTests.Who: String] = [
            .superAdmin: "root", .manager: "mona", .keys: "kim", .readonly: "rita", .none: "nell", .other: "boss",
        ]
        var apiSessions: [AccessMatrixTests.Who: String] = [:]
        var portalCookies: [AccessMatrixTests.Who: String] = [:]
        let acmeKey = try #require(try await harness.currentKey())
        for (who, login) in logins {
            let key = who == .other ? bravo.key.value.rawValue : acmeKey
            apiSessions[who] = try await client.login(harness, user: login, key: key)
            portalCookies[who] = try await PortalTests.signIn(client, login: login)
        }
        // The lapsed role loses API key access while its admin is signed in everywhere.
        var lapsed = lapsedRole
        lapsed.featurePermissions[Role.apiKeyManagement] = FeatureAccess.none
        try await harness.store.updateRole(
            lapsed, audit: AuditEvent(orgID: orgID, at: harness.clock.now, actor: provider, action: .roleUpdated, detail: ""))
        let ids: [String: Int64] = [
            "key": harness.org.key.id, "superRole": superRole.id, "managerRole": managerRole.id, "keysRole": keysRole.id,
            "readonlyRole": readonlyRole.id, "spareRole": spareRole.id, "root": harness.org.admin.id, "dana": dana.id,
            "webhook": endpoint.id, "delivery": delivery, "org": orgID,
        ]
        var adminIDs: [AccessMatrixTests.Who: Int64] = [.other: bravo.admin.id]
        for admin in try await keygate.admins(orgID: orgID) {
            if let who = logins.first(where: { $0.value == admin.loginName })?.key { adminIDs[who] = admin.id }
        }
        return World(
            harness: harness, client: client, ids: ids, logins: logins, apiSessions: apiSessions, portalCookies: portalCookies, adminIDs: adminIDs)
    }

    /// A login body for the read-only admin with Acme's current key.
    func loginBody() -> [String: any Sendable] {
        harness.loginBody(user: "rita", key: harness.org.key.value.rawValue).mapValues { "\($0)" }
    }

    func send(_ recipe: Recipe, as who: AccessMatrixTests.Who) async throws -> TestResponse {
        var path = recipe.path.replacingOccurrences(of: "{self}", with: "\(adminIDs[who] ?? 0)")
        for (name, id) in ids { path = path.replacingOccurrences(of: "{\(name)}", with: "\(id)") }
        var cookies: [String] = []
        if let session = apiSessions[who] { cookies.append("JSESSIONID=\(session)") }
        if let portal = portalCookies[who] { cookies.append("kg_portal=\(portal)") }
        var headers: HTTPFields = [:]
        if !cookies.isEmpty { headers[.cookie] = cookies.joined(separator: "; ") }
        switch recipe.body {
        case .none:
            return try await client.send(recipe.method, path, headers: headers)
        case .json(let body):
            return try await client.send(recipe.method, path, json: body(self, who), headers: headers)
        case .form(let fields):
            var form = fields(self, who)
            let area = path.hasPrefix("/provider") ? "provider" : "portal"
            form["csrf"] = Secrets.sha256Hex("keygate-\(area)-csrf\u{0}" + (area == "portal" ? portalCookies[who] ?? "" : ""))
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
            return try await client.send(recipe.method, path, raw: body, contentType: "application/x-www-form-urlencoded", headers: headers)
        }
    }

    /// Everything of Acme an admin could change, as text: the organization, roles, admins (password hashes too), the
    /// key, webhook endpoints, events and deliveries, preferences, and the audit trail.
    func digest() async throws -> [String] {
        let org = harness.orgID
        let queries: [SQLQueryString] = [
            "SELECT * FROM organizations WHERE id = \(bind: org)",
            "SELECT * FROM roles WHERE org_id = \(bind: org) ORDER BY id",
            "SELECT * FROM admins WHERE org_id = \(bind: org) ORDER BY id",
            "SELECT * FROM api_keys WHERE org_id = \(bind: org) ORDER BY id",
            "SELECT * FROM webhook_endpoints WHERE org_id = \(bind: org) ORDER BY id",
            "SELECT * FROM webhook_events WHERE org_id = \(bind: org) ORDER BY id",
            "SELECT * FROM webhook_deliveries WHERE endpoint_id IN (SELECT id FROM webhook_endpoints WHERE org_id = \(bind: org)) ORDER BY id",
            "SELECT * FROM admin_preferences WHERE admin_id IN (SELECT id FROM admins WHERE org_id = \(bind: org)) ORDER BY admin_id, name",
            "SELECT * FROM audit_events WHERE org_id = \(bind: org) ORDER BY id",
        ]
        return try await harness.db.read { sql in
            var lines: [String] = []
            for query in queries {
                for row in try await sql.raw(query).all() {
                    lines.append(
                        row.allColumns.map { column in
                            // `try?` flattens: nil for NULL as for a column of the other type.
                            if let int = try? row.decode(column: column, as: Int64?.self) { return "\(column)=\(int)" }
                            if let text = try? row.decode(column: column, as: String?.self) { return "\(column)=\(text)" }
                            return "\(column)=null"
                        }.joined(separator: ","))
                }
            }
            return lines
        }
    }
}

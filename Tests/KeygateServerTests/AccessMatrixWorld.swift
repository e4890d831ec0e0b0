import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateCore
import KeygateServer
import KeygateStorage
import SQLKit
import Testing

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
        let roles = try await keygate.roles.roles(keygate.commandLineProvider(operator: "test"), orgID: orgID)
        let superRole = try #require(roles.first { $0.isNonEditable })
        let readonlyRole = try #require(roles.first { $0.name == Role.readOnlyAdminName })
        let managerRole = try await role("Admin Manager", rank: 5, apiKey: .readWrite, admin: .readWrite)
        let keysRole = try await role("Key Manager", rank: 7, apiKey: .readWrite, admin: .none)
        let spareRole = try await role("Spare", rank: 7, apiKey: .readOnly, admin: .none)
        let lapsedRole = try await role("Lapsed", rank: 7, apiKey: .readOnly, admin: .none)
        func admin(_ login: String, _ role: Role) async throws -> Admin {
            try await keygate.admins.createAdmin(
                keygate.commandLineProvider(operator: "t"), orgID: orgID,
                draft: AdminDraft(loginName: login, roleID: role.id, password: Harness.password))
        }
        _ = try await admin("mona", managerRole)
        _ = try await admin("kim", keysRole)
        _ = try await admin("rita", readonlyRole)
        _ = try await admin("nell", lapsedRole)
        let dana = try await admin("dana", readonlyRole)
        let rootPrincipal = try await keygate.sessions.authenticate(token: Substring(try await client.login(harness)))
        let (endpoint, _) = try await keygate.webhooks.createWebhookEndpoint(rootPrincipal, url: Recipe.hook, events: [.keyRegenerated])
        let delivery = try await keygate.webhooks.sendTestWebhook(rootPrincipal, id: endpoint.id)
        let bravo = try await keygate.organizations.provisionOrganization(
            keygate.commandLineProvider(operator: "test"), name: "Bravo", adminLogin: "boss", password: Harness.password)

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
        for admin in try await keygate.admins.admins(keygate.commandLineProvider(operator: "test"), orgID: orgID) {
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

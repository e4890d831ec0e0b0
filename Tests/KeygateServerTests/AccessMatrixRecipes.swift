import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateCore
import KeygateServer
import KeygateStorage
import SQLKit
import Testing

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

    /// Makes the world's test delivery a failed one (one attempt, answered 500, no retry left), for recover.
    static let failTheDelivery: @Sendable (World) async throws -> Void = { world in
        let store = world.harness.store
        let now = world.harness.clock.now
        for job in try await store.claimWebhookDeliveries(now: now, leaseUntil: now.addingTimeInterval(60), limit: 10, perOrganization: 10) {
            _ = try await store.completeWebhookDelivery(
                id: job.deliveryID, attempt: job.attempt,
                outcome: WebhookAttempt(
                    at: now, statusCode: 500, error: "the receiver answered 500", durationMs: 1, delivered: false, nextAttemptAt: nil,
                    endpoint: .unchanged))
        }
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
            "webhook.resend": .api(
                .post, "/api/v1/webhooks/{id}/deliveries/{deliveryId}/resend", "/api/v1/webhooks/{webhook}/deliveries/{delivery}/resend"),
            "webhook.recover": {
                var recipe = Recipe.api(.post, "/api/v1/webhooks/{id}/recover", "/api/v1/webhooks/{webhook}/recover", json: ["since": 0])
                recipe.setup = failTheDelivery
                return recipe
            }(),
            "openapi": .api(.get, "/api/v1/openapi.json"),
            "health.api": .api(.get, "/api/v1/health"),
            "health": .api(.get, "/health"),
            "health.ready": .api(.get, "/health/ready"),
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
                    let dana = try #require(
                        try await keygate.admins.admins(keygate.commandLineProvider(operator: "test"), orgID: world.harness.orgID).first {
                            $0.loginName == "dana"
                        })
                    if !dana.disabled {
                        _ = try await keygate.admins.updateAdmin(
                            keygate.commandLineProvider(operator: "test"), current: dana, draft: AdminDraft(disabled: true))
                    }
                }
                return recipe
            }(),
            "portal.admin.edit": .portal(
                "/portal/orgs/{orgID}/admins/{id}", "/portal/orgs/{org}/admins/{dana}",
                form: ["action": "edit", "userName": "Dana D.", "email": "dana@example.com"]),
            "portal.webhook.resend": .portal(
                "/portal/orgs/{orgID}/webhooks/{id}/deliveries/{deliveryID}/resend",
                "/portal/orgs/{org}/webhooks/{webhook}/deliveries/{delivery}/resend"),
            "portal.webhook.recover": {
                var recipe = Recipe.portal(
                    "/portal/orgs/{orgID}/webhooks/{id}/recover", "/portal/orgs/{org}/webhooks/{webhook}/recover", form: ["hours": "24"])
                recipe.setup = failTheDelivery
                return recipe
            }(),
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

import Foundation
import Hummingbird
import KeygateCore

/// A request body's typed input, as answers have their DTOs: the members it accepts and how each is read. A body is
/// read by ``JSONBody/read(_:context:)`` (a repeated member is 400), checked against ``members`` (an unknown one is
/// 400), then made into the input; its member readers keep the API's documented types and messages.
protocol JSONInput: Sendable {
    /// The members the body may have.
    static var members: Set<String> { get }
    /// Reads the input from a body whose members are all in ``members``.
    init(_ body: JSONBody) throws
}

extension JSONBody {
    /// The request's body as `Input`.
    static func decode<Input: JSONInput>(_ type: Input.Type, _ request: Request, context: some KeygateContext) async throws -> Input {
        let body = try await read(request, context: context)
        try body.allowOnly(Input.members)
        return try Input(body)
    }
}

/// A body that must be empty (or `{}`): the actions that take none.
struct NoInput: JSONInput {
    static let members: Set<String> = []
    init(_ body: JSONBody) {}
}

/// `POST /auth`: the timestamp may be a number or a string (the SDKs send either).
struct LoginInput: JSONInput {
    static let members: Set<String> = ["apiKey", "username", "password", "timestamp"]
    let request: LoginRequest

    init(_ body: JSONBody) throws {
        let timestamp: String
        switch body.fields["timestamp"] {
        case .integer(let value): timestamp = String(value)
        case .string(let value): timestamp = value
        case .none, .null: throw KeygateError.invalidInput("timestamp is required")
        default: throw KeygateError.invalidInput("timestamp must be epoch milliseconds, as a number or a string")
        }
        request = LoginRequest(
            apiKey: try body.requiredString("apiKey"), username: try body.requiredString("username"),
            password: try body.requiredString("password"), timestamp: timestamp)
    }
}

/// `POST /passwordChange`.
struct PasswordChangeInput: JSONInput {
    static let members: Set<String> = ["userName", "oldPassword", "newPassword"]
    let userName: String
    let oldPassword: String
    let newPassword: String

    init(_ body: JSONBody) throws {
        userName = try body.requiredString("userName")
        oldPassword = try body.requiredString("oldPassword")
        newPassword = try body.requiredString("newPassword")
    }
}

/// The key object `GET /apiKeys` answers, sent back to add or edit (a client may send the whole object): only
/// `keyValue` and `id` are read; the others must say what the key is (``KeyRules/checkClientFields(enabled:permissions:partnerUrl:)``).
struct KeyObjectInput: JSONInput {
    static let members: Set<String> = ["id", "keyValue", "permissions", "enabled", "lastModifiedTime", "lastModifiedBy", "partnerUrl"]
    let id: Int64?
    let keyValue: String?

    init(_ body: JSONBody) throws {
        var permissions: [String]?
        switch body.fields["permissions"] {
        case .none, .null: permissions = nil
        case .array(let values):
            permissions = try values.map {
                guard case .string(let s) = $0 else { throw KeygateError.invalidInput("permissions must be an array of strings") }
                return s
            }
        default: throw KeygateError.invalidInput("permissions must be an array of strings")
        }
        _ = try body.integer("lastModifiedTime")
        _ = try body.object("lastModifiedBy")
        try KeyRules.checkClientFields(enabled: try body.bool("enabled"), permissions: permissions, partnerUrl: try body.string("partnerUrl"))
        id = try body.integer("id")
        keyValue = try body.string("keyValue")
    }
}

/// A role, created or changed.
struct RoleInput: JSONInput {
    /// Role fields Zscaler defines that Keygate does not model: accepted (the SDK's `add_role` sends them) and
    /// ignored. Anything outside this list and the modelled fields is refused as unknown.
    static let ignored: Set<String> = [
        "policyAccess", "reportAccess", "usernameAccess", "dashboardAccess", "alertingAccess",
        "deviceInfoAccess", "analysisAccess", "logsLimit", "permissions", "featurePermissionsTuples", "isNonEditable",
        "isPartnerRole", "isApiRole", "id", "reportTimeDuration",
    ]
    static let modelled: Set<String> = ["name", "rank", "roleType", "featurePermissions", "isAuditor", "adminAcctAccess"]
    static let members = modelled.union(ignored)
    let draft: RoleDraft

    init(_ body: JSONBody) throws {
        var permissions: [String: FeatureAccess]?
        if let object = try body.object("featurePermissions") {
            permissions = try object.reduce(into: [:]) { result, entry in
                guard case .string(let level) = entry.value, let access = FeatureAccess(lenient: level) else {
                    throw KeygateError.invalidInput("featurePermissions.\(entry.key) must be NONE, READ_ONLY or READ_WRITE")
                }
                result[Role.canonicalFeatureName(entry.key)] = access
            }
        }
        if let level = try body.string("adminAcctAccess") {
            guard let access = FeatureAccess(lenient: level) else {
                throw KeygateError.invalidInput("adminAcctAccess must be NONE, READ_ONLY or READ_WRITE")
            }
            permissions = (permissions ?? [:]).merging([Role.adminAccountAccess: access]) { $1 }
        }
        draft = RoleDraft(
            name: try body.string("name"), rank: try body.integer("rank").map(Int.init), roleType: try body.string("roleType"),
            featurePermissions: permissions, isAuditor: try body.bool("isAuditor"))
    }
}

/// An admin, created or changed. `role` may be `{"id": n}`, a number, or a role name (resolved by the controller).
struct AdminInput: JSONInput {
    /// Admin fields Zscaler defines that Keygate does not model: accepted and ignored.
    static let ignored: Set<String> = [
        "id", "comments", "adminScopeType", "adminScopeScopeEntities", "adminScopescopeGroupMemberEntities",
        "isPasswordLoginAllowed", "isDefaultAdmin", "isPasswordExpired", "isExecMobileAppEnabled", "isNonEditable",
        "isSecurityReportCommEnabled", "isServiceUpdateCommEnabled", "isProductUpdateCommEnabled", "isAuditor",
        "name", "execMobileAppTokens", "adminScope",
    ]
    static let modelled: Set<String> = ["loginName", "userName", "email", "role", "password", "disabled"]
    static let members = modelled.union(ignored)

    /// How the body names the role.
    enum RoleReference: Sendable {
        case id(Int64)
        case name(String)
    }

    let role: RoleReference?
    /// The draft without its role.
    let draft: AdminDraft

    init(_ body: JSONBody) throws {
        switch body.fields["role"] {
        case .none, .null: role = nil
        case .integer(let id): role = .id(id)
        case .object(let object):
            guard let id = try JSONBody(fields: object).integer("id") else { throw KeygateError.invalidInput("role.id is required") }
            role = .id(id)
        case .string(let name): role = Int64(name).map(RoleReference.id) ?? .name(name)
        default: throw KeygateError.invalidInput("role must be an object with an id")
        }
        draft = AdminDraft(
            loginName: try body.string("loginName"), userName: try body.string("userName"), email: try body.string("email"),
            password: try body.string("password"), disabled: try body.bool("disabled"))
    }
}

/// A new webhook endpoint.
/// `POST /webhooks/{id}/recover`: `since`, epoch seconds.
struct RecoverWebhookInput: JSONInput {
    static let members: Set<String> = ["since"]
    let since: Date

    init(_ body: JSONBody) throws {
        guard let seconds = try body.integer("since"), seconds >= 0, seconds < 100_000_000_000 else {
            throw KeygateError.invalidInput("since is required: epoch seconds")
        }
        since = Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}

struct NewWebhookInput: JSONInput {
    static let members: Set<String> = ["url", "events", "enabled"]
    let url: String
    let events: [WebhookEventType]?
    let enabled: Bool

    init(_ body: JSONBody) throws {
        url = try body.requiredString("url")
        events = try Self.events(body)
        enabled = try body.bool("enabled") ?? true
    }

    /// `events`: an array of event type names; nil when absent (all types on create, unchanged on update).
    static func events(_ body: JSONBody) throws -> [WebhookEventType]? {
        switch body.fields["events"] {
        case .none, .null: return nil
        case .array(let values):
            return try values.map {
                guard case .string(let name) = $0, let type = WebhookEventType(rawValue: name), type != .test else {
                    throw KeygateError.invalidInput(
                        "events must name event types: \(WebhookEventType.subscribable.map(\.rawValue).joined(separator: ", "))")
                }
                return type
            }
        default: throw KeygateError.invalidInput("events must be an array of event type names")
        }
    }
}

/// An endpoint changed: any of its fields, or the whole object `GET /webhooks/{id}` answers (its `id`, if any, must
/// be the path's; the times are read and ignored).
struct WebhookUpdateInput: JSONInput {
    static let members: Set<String> = ["url", "events", "enabled", "id", "createdAt", "previousSecretValidUntil"]
    let id: Int64?
    let url: String?
    let events: [WebhookEventType]?
    let enabled: Bool?

    init(_ body: JSONBody) throws {
        id = try body.integer("id")
        _ = try body.integer("createdAt")
        _ = try body.integer("previousSecretValidUntil")
        url = try body.string("url")
        events = try NewWebhookInput.events(body)
        enabled = try body.bool("enabled")
    }
}

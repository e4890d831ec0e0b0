import Foundation
import Hummingbird
import KeygateCore

/// `{"id","name"}` references, as the legacy API writes them.
struct RefDTO: Encodable {
    let id: Int64
    let name: String
}

/// An API key as `GET /apiKeys` returns it.
struct APIKeyDTO: Encodable {
    let id: Int64
    let keyValue: String
    let permissions: [String]
    let enabled: Bool
    let lastModifiedTime: Int64
    let lastModifiedBy: RefDTO
    let partnerUrl: String

    init(_ key: APIKey) {
        self.id = key.id
        self.keyValue = key.value.rawValue
        self.permissions = []
        self.enabled = key.enabled
        self.lastModifiedTime = Int64(key.lastModifiedAt.timeIntervalSince1970)
        self.lastModifiedBy = RefDTO(id: key.lastModifiedBy.adminID ?? 0, name: key.lastModifiedBy.name)
        self.partnerUrl = ""
    }
}

/// An admin role.
struct RoleDTO: Encodable {
    let id: Int64
    let rank: Int
    let name: String
    let roleType: String
    let featurePermissions: [String: String]
    let isNonEditable: Bool
    let isAuditor: Bool

    init(_ role: Role) {
        self.id = role.id
        self.rank = role.rank
        self.name = role.name
        self.roleType = role.roleType
        self.featurePermissions = role.featurePermissions.mapValues(\.rawValue)
        self.isNonEditable = role.isNonEditable
        self.isAuditor = role.isAuditor
    }
}

/// An admin user; the password is write-only and never appears.
struct AdminDTO: Encodable {
    let id: Int64
    let loginName: String
    let userName: String
    let email: String
    let role: RefDTO
    let disabled: Bool
    let isPasswordLoginAllowed: Bool
    let adminScopeType: String

    init(_ admin: Admin, roleName: String) {
        self.id = admin.id
        self.loginName = admin.loginName
        self.userName = admin.userName
        self.email = admin.email
        self.role = RefDTO(id: admin.roleID, name: roleName)
        self.disabled = admin.disabled
        self.isPasswordLoginAllowed = true
        self.adminScopeType = "ORGANIZATION"
    }
}

/// The body of a successful login and of a live session check.
struct AuthDTO: Encodable {
    let authType = "ADMIN_LOGIN"
    let obfuscateApiKey = true
    let passwordExpiryTime = -1
    let passwordExpiryDays = -1
}

/// Encodes a value as a JSON response.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
    var headers = headers
    headers[.contentType] = "application/json"
    let data = try JSONEncoder.keygate.encode(value)
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// 204 with no body and no content type (the SDKs raise on an empty JSON body).
func noContent() -> Response { Response(status: .noContent) }

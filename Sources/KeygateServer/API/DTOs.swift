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

extension APIKeyDTO {
    /// The JSON of a list of keys, written directly: `GET /apiKeys` is the hot path, and `JSONEncoder` was the
    /// largest cost in its profile. The output is byte-for-byte what ``jsonResponse(_:status:headers:)`` writes
    /// (sorted keys, slashes unescaped); a test holds the two to that on hostile names.
    static func listJSON(_ keys: [APIKeyDTO]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(192 * max(1, keys.count))
        out.append(UInt8(ascii: "["))
        for (index, key) in keys.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"enabled":"#.utf8)
            out.append(contentsOf: (key.enabled ? "true" : "false").utf8)
            out.append(contentsOf: #","id":"#.utf8)
            out.append(contentsOf: String(key.id).utf8)
            out.append(contentsOf: #","keyValue":"#.utf8)
            appendJSONString(key.keyValue, to: &out)
            out.append(contentsOf: #","lastModifiedBy":{"id":"#.utf8)
            out.append(contentsOf: String(key.lastModifiedBy.id).utf8)
            out.append(contentsOf: #","name":"#.utf8)
            appendJSONString(key.lastModifiedBy.name, to: &out)
            out.append(contentsOf: #"},"lastModifiedTime":"#.utf8)
            out.append(contentsOf: String(key.lastModifiedTime).utf8)
            out.append(contentsOf: #","partnerUrl":"#.utf8)
            appendJSONString(key.partnerUrl, to: &out)
            out.append(contentsOf: #","permissions":["#.utf8)
            for (i, permission) in key.permissions.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendJSONString(permission, to: &out)
            }
            out.append(contentsOf: "]}".utf8)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}

/// Appends `text` as a JSON string literal, escaping as `JSONEncoder` does: `"` `\` and control characters;
/// everything else is copied as UTF-8.
func appendJSONString(_ text: String, to out: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    out.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
        case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
        case 0x0A: out.append(contentsOf: #"\n"#.utf8)
        case 0x0D: out.append(contentsOf: #"\r"#.utf8)
        case 0x09: out.append(contentsOf: #"\t"#.utf8)
        case 0x08: out.append(contentsOf: #"\b"#.utf8)
        case 0x0C: out.append(contentsOf: #"\f"#.utf8)
        case 0x00..<0x20:
            out.append(contentsOf: #"\u00"#.utf8)
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        default: out.append(byte)
        }
    }
    out.append(UInt8(ascii: "\""))
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
    /// Zscaler's top-level field for admin-account management (stored among the feature permissions).
    let adminAcctAccess: String

    /// The role as a client on `channel` sees it (ZIA clients get ZIA role types).
    init(_ role: Role, channel: SessionChannel) {
        self.id = role.id
        self.rank = role.rank
        self.name = role.name
        self.roleType = role.roleType(for: channel)
        self.featurePermissions = role.featurePermissions.filter { $0.key != Role.adminAccountAccess }.mapValues(\.rawValue)
        self.adminAcctAccess = role.adminAccess.rawValue
        self.isNonEditable = role.isNonEditable
        self.isAuditor = role.isAuditor
    }
}

/// A role in `GET /adminRoles/lite`'s short form, as Zscaler answers it.
struct RoleLiteDTO: Encodable {
    let id: Int64
    let rank: Int
    let name: String
    let roleType: String
    /// Zscaler's report window; -1 (no limit) in every recorded answer, and Keygate has no reports.
    let reportTimeDuration = -1

    init(_ role: Role, channel: SessionChannel) {
        self.id = role.id
        self.rank = role.rank
        self.name = role.name
        self.roleType = role.roleType(for: channel)
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

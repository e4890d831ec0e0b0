import Foundation
import Hummingbird
import KeygateCore

/// `{"id","name"}` references, as the legacy API writes them.
struct RefDTO: Encodable, Equatable, Sendable {
    let id: Int64
    let name: String
}

/// An API key as `GET /apiKeys` returns it.
struct APIKeyDTO: Encodable, Equatable, Sendable {
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
    /// The JSON of a list of keys, written directly into the answer's buffer: `GET /apiKeys` is the hot path, and
    /// `JSONEncoder` was the largest cost in its profile. The output is byte-for-byte what
    /// ``jsonResponse(_:status:headers:)`` writes (sorted keys, slashes unescaped); a test holds the two to that on
    /// hostile names.
    static func listJSON(_ keys: [APIKeyDTO]) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(192 * max(1, keys.count))
        out.writeStaticString("[")
        for (index, key) in keys.enumerated() {
            if index > 0 { out.writeStaticString(",") }
            out.writeStaticString(#"{"enabled":"#)
            out.writeStaticString(key.enabled ? "true" : "false")
            out.writeStaticString(#","id":"#)
            out.writeString(String(key.id))
            out.writeStaticString(#","keyValue":"#)
            writeJSONString(key.keyValue, to: &out)
            out.writeStaticString(#","lastModifiedBy":{"id":"#)
            out.writeString(String(key.lastModifiedBy.id))
            out.writeStaticString(#","name":"#)
            writeJSONString(key.lastModifiedBy.name, to: &out)
            out.writeStaticString(#"},"lastModifiedTime":"#)
            out.writeString(String(key.lastModifiedTime))
            out.writeStaticString(#","partnerUrl":"#)
            writeJSONString(key.partnerUrl, to: &out)
            out.writeStaticString(#","permissions":["#)
            for (i, permission) in key.permissions.enumerated() {
                if i > 0 { out.writeStaticString(",") }
                writeJSONString(permission, to: &out)
            }
            out.writeStaticString("]}")
        }
        out.writeStaticString("]")
        return out
    }
}

/// Writes `text` as a JSON string literal, escaping as `JSONEncoder` does: `"` `\` and control characters;
/// everything else is copied as UTF-8 (in one copy when nothing needs escaping, the usual case).
func writeJSONString(_ text: String, to out: inout ByteBuffer) {
    out.writeStaticString("\"")
    if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
        out.writeString(text)
        out.writeStaticString("\"")
        return
    }
    let hex: StaticString = "0123456789abcdef"
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "\""): out.writeStaticString(#"\""#)
        case UInt8(ascii: "\\"): out.writeStaticString(#"\\"#)
        case 0x0A: out.writeStaticString(#"\n"#)
        case 0x0D: out.writeStaticString(#"\r"#)
        case 0x09: out.writeStaticString(#"\t"#)
        case 0x08: out.writeStaticString(#"\b"#)
        case 0x0C: out.writeStaticString(#"\f"#)
        case 0x00..<0x20:
            out.writeStaticString(#"\u00"#)
            hex.withUTF8Buffer { digits in out.writeBytes([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]) }
        default: out.writeInteger(byte)
        }
    }
    out.writeStaticString("\"")
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

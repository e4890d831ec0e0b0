import Foundation

/// Pure rules for the organization's key: what each operation may do given the current key.
public enum KeyRules {
    /// Add: only when the organization has no key.
    public static func checkAdd(current: APIKey?) throws {
        if current != nil { throw KeygateError.conflict("the organization already has an API key; edit or regenerate it") }
    }

    /// The key an admin's request names must be the organization's, and an admin may change it only while enabled.
    public static func checkAdminMayChange(current: APIKey?, id: Int64) throws -> APIKey {
        guard let current, current.id == id else { throw KeygateError.notFound("API key \(id) not found") }
        guard current.enabled else { throw KeygateError.keyDisabled }
        return current
    }

    /// The key object's other fields, which clients send back whole (the Go SDK creates with the full object, the
    /// Python SDK's `request_format()` PUTs what GET returned): accepted when they change nothing only the provider
    /// may change. A key an admin may add or edit is always enabled (a disabled one refuses every admin change), and
    /// Keygate keys have no permissions and no partner URL, so:
    /// - `enabled: false` is a 403 (disabling is the provider's);
    /// - non-empty `permissions` or `partnerUrl` is a 403 (partner keys and key permissions are the provider's).
    /// `id`, `lastModifiedTime` and `lastModifiedBy` are the server's to set and are ignored.
    public static func checkClientFields(enabled: Bool?, permissions: [String]?, partnerUrl: String?) throws {
        if enabled == false { throw KeygateError.forbidden("only the provider can disable or enable an API key") }
        if let permissions, !permissions.isEmpty { throw KeygateError.forbidden("an API key's permissions are set by the provider") }
        if let partnerUrl, !partnerUrl.isEmpty { throw KeygateError.forbidden("partner keys are managed by the provider") }
    }

    /// Edit: a valid 12-character key that differs from the current one.
    public static func validateEdit(newValue: String, current: APIKey) throws -> APIKeyValue {
        let value = try APIKeyValue(validating: newValue)
        if ConstantTime.equals(value.rawValue, current.value.rawValue) {
            throw KeygateError.invalidInput("the new API key must differ from the current key")
        }
        return value
    }

    /// Regenerate: a random key that differs from the current one.
    public static func regenerated(current: APIKey?) -> APIKeyValue {
        while true {
            let value = APIKeyValue.generate()
            if value != current?.value { return value }
        }
    }
}

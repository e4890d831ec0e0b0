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

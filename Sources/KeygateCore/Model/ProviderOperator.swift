import Foundation

/// An account of the provider's console (the operator of the Keygate server, above every organization).
/// Created with `keygate provider create-operator`; the password is stored only as a bcrypt hash.
public struct ProviderOperator: Sendable, Hashable {
    /// Database id.
    public var id: Int64
    /// Sign-in name (unique, case-insensitively).
    public var loginName: String
    /// bcrypt hash.
    public var passwordHash: String
    /// A disabled operator cannot sign in, and their sessions stop working.
    public var disabled: Bool
    /// Creation time.
    public var createdAt: Date

    public init(id: Int64, loginName: String, passwordHash: String, disabled: Bool = false, createdAt: Date) {
        self.id = id
        self.loginName = loginName
        self.passwordHash = passwordHash
        self.disabled = disabled
        self.createdAt = createdAt
    }
}

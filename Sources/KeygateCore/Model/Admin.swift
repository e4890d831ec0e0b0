import Foundation

/// An organization admin account.
public struct Admin: Sendable, Hashable {
    /// Database id.
    public var id: Int64
    /// Owning organization.
    public var orgID: Int64
    /// Sign-in name, unique within the organization (the same person may hold one in several organizations).
    public var loginName: String
    /// Display name.
    public var userName: String
    /// Contact address.
    public var email: String
    /// The admin's role.
    public var roleID: Int64
    /// bcrypt hash of the password; the password itself is never stored.
    public var passwordHash: String
    /// A disabled admin cannot sign in and their sessions end at once.
    public var disabled: Bool
    /// When the account was created.
    public var createdAt: Date

    public init(
        id: Int64, orgID: Int64, loginName: String, userName: String, email: String, roleID: Int64,
        passwordHash: String, disabled: Bool = false, createdAt: Date
    ) {
        self.id = id
        self.orgID = orgID
        self.loginName = loginName
        self.userName = userName
        self.email = email
        self.roleID = roleID
        self.passwordHash = passwordHash
        self.disabled = disabled
        self.createdAt = createdAt
    }

    /// Checks a login name: 1-128 characters of letters, digits and `. _ - @ +`.
    public static func validateLoginName(_ name: String) throws {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-@+"))
        guard !name.isEmpty, name.count <= 128, name.unicodeScalars.allSatisfy({ $0.isASCII && allowed.contains($0) })
        else {
            throw KeygateError.invalidInput("loginName must be 1-128 characters of letters, digits and . _ - @ +")
        }
    }

    /// Characters no name may hold: C0 and C1 controls, format characters (bidi overrides and isolates, zero-width
    /// joiners), and line breaks (CR, LF, NEL, U+2028, U+2029).
    static let forbiddenInNames = CharacterSet.controlCharacters.union(.newlines)

    /// Checks a display name or e-mail: at most 254 printable characters.
    public static func validateText(_ value: String, field: String, required: Bool) throws {
        if required && value.trimmingCharacters(in: .whitespaces).isEmpty {
            throw KeygateError.invalidInput("\(field) is required")
        }
        guard value.count <= 254, value.unicodeScalars.allSatisfy({ !forbiddenInNames.contains($0) })
        else {
            throw KeygateError.invalidInput("\(field) must be at most 254 printable characters")
        }
    }
}

/// The legacy password policy: 8-100 characters with a digit, an upper-case letter and a special character.
public enum PasswordPolicy {
    /// The most bytes bcrypt reads.
    public static let maxBytes = 72

    /// Throws ``KeygateError/invalidInput(_:)`` with the first rule the password breaks.
    public static func validate(_ password: String) throws {
        guard (8...100).contains(password.count) else {
            throw KeygateError.invalidInput("password must be 8-100 characters")
        }
        // bcrypt stops at a NUL byte and ignores everything past 72 bytes: either would make the stored password
        // weaker than the one the admin chose (with `\0` first, an empty password would sign in).
        guard !password.utf8.contains(0) else {
            throw KeygateError.invalidInput("password must not contain a NUL character")
        }
        guard password.utf8.count <= maxBytes else {
            throw KeygateError.invalidInput("password must be at most \(maxBytes) bytes in UTF-8 (bcrypt ignores the rest)")
        }
        guard password.contains(where: \.isNumber) else {
            throw KeygateError.invalidInput("password must contain a digit")
        }
        guard password.contains(where: \.isUppercase) else {
            throw KeygateError.invalidInput("password must contain an upper-case letter")
        }
        guard password.contains(where: { !$0.isLetter && !$0.isNumber && !$0.isWhitespace }) else {
            throw KeygateError.invalidInput("password must contain a special character")
        }
    }

    /// A random password that satisfies the policy (for provisioning), 20 characters.
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        let body = APIKeyValue.generate(using: &rng).rawValue + APIKeyValue.generate(using: &rng).rawValue.prefix(4)
        let specials = Array("!#%+-=?@^_")
        return "Kg" + body + String(Int.random(in: 0...9, using: &rng)) + String(specials.randomElement(using: &rng)!)
    }
}

/// Hashes and verifies passwords. Implemented outside Core (bcrypt, run off the event loop).
public protocol PasswordHasher: Sendable {
    /// The cost (work factor, log2 of the rounds) new hashes get.
    var cost: Int { get }
    /// The lowest cost this hasher makes.
    var minimumCost: Int { get }
    /// A salted hash of `password` at ``cost``.
    func hash(_ password: String) async throws -> String
    /// A salted hash of `password` at `cost` (decoys, ``PasswordDecoys``).
    func hash(_ password: String, cost: Int) async throws -> String
    /// Whether `password` matches `hash`; takes the same time whether or not it does.
    func verify(_ password: String, against hash: String) async throws -> Bool
    /// The cost `hash` was made with, or nil when it is not a hash this hasher reads.
    func cost(of hash: String) -> Int?
}

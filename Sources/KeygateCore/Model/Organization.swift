import Foundation

/// A tenant of the Keygate server.
public struct Organization: Sendable, Hashable {
    /// Database id.
    public var id: Int64
    /// Unique name, as the provider chose it.
    public var name: String
    /// What happens to live sessions when the key is rotated.
    public var rotationPolicy: RotationPolicy
    /// When it was provisioned.
    public var createdAt: Date

    public init(id: Int64, name: String, rotationPolicy: RotationPolicy = .endOldSessions, createdAt: Date) {
        self.id = id
        self.name = name
        self.rotationPolicy = rotationPolicy
        self.createdAt = createdAt
    }

    /// Checks an organization name: 1-100 printable characters, no leading or trailing spaces.
    public static func validateName(_ name: String) throws {
        guard !name.isEmpty, name.count <= 100, name == name.trimmingCharacters(in: .whitespaces),
            name.unicodeScalars.allSatisfy({ !CharacterSet.controlCharacters.contains($0) })
        else {
            throw KeygateError.invalidInput("organization name must be 1-100 printable characters without surrounding spaces")
        }
    }
}

/// What a key rotation (edit or regenerate) does to the sessions made with the old key.
///
/// Keygate's default ends them at once (the old key is invalid the moment it changes) except the session that
/// made the change, which moves to the new key. `keepOldSessions` is Zscaler's behaviour; `grace` lets old
/// sessions finish their work for a bounded time.
public enum RotationPolicy: Sendable, Hashable {
    /// End every old session except the caller's (the default).
    case endOldSessions
    /// Keep old sessions alive until they idle out (Zscaler's behaviour).
    case keepOldSessions
    /// Keep old sessions for at most this many seconds after the rotation.
    case grace(seconds: Int)

    /// The stored form: `end`, `keep` or `grace:<seconds>`.
    public var storedValue: String {
        switch self {
        case .endOldSessions: "end"
        case .keepOldSessions: "keep"
        case .grace(let seconds): "grace:\(seconds)"
        }
    }

    /// Parses the stored or user-typed form; nil when it is not one of the three.
    public init?(storedValue: String) {
        switch storedValue {
        case "end": self = .endOldSessions
        case "keep": self = .keepOldSessions
        default:
            guard storedValue.hasPrefix("grace:"), let seconds = Int(storedValue.dropFirst(6)), seconds > 0,
                seconds <= 86_400
            else { return nil }
            self = .grace(seconds: seconds)
        }
    }
}

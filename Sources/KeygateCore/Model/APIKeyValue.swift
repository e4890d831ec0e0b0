import Foundation

/// An organization API key string: exactly 12 characters of `A-Z a-z 0-9`.
///
/// The legacy protocol's obfuscation reads positions 0-11 only, so the length is fixed. The value is a secret:
/// its `description` is masked so that interpolating it into a log line cannot leak it.
public struct APIKeyValue: Sendable, Hashable, CustomStringConvertible {
    /// The number of characters in every key.
    public static let length = 12
    /// The characters a key may hold, in the order random generation draws from.
    public static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// The clear key string.
    public let rawValue: String

    /// Validates a caller-supplied key string.
    /// - Throws: ``KeygateError/invalidInput(_:)`` naming what is wrong.
    public init(validating string: String) throws {
        let bytes = Array(string.utf8)
        guard bytes.count == Self.length, string.unicodeScalars.count == Self.length else {
            throw KeygateError.invalidInput("API key must be exactly 12 characters of A-Z, a-z and 0-9")
        }
        guard bytes.allSatisfy(Self.isAlphanumeric) else {
            throw KeygateError.invalidInput("API key must contain only the characters A-Z, a-z and 0-9")
        }
        self.rawValue = string
    }

    /// Draws a new key from a cryptographically secure random source (rejection sampling, so no modulo bias).
    public static func generate() -> APIKeyValue {
        var rng = SystemRandomNumberGenerator()
        return generate(using: &rng)
    }

    /// Draws a new key from `rng`; tests pass a seeded generator, production passes the system's CSPRNG.
    public static func generate<R: RandomNumberGenerator>(using rng: inout R) -> APIKeyValue {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        let count = UInt8(alphabet.count)  // 62
        let limit = UInt8.max - (UInt8.max % count)  // accept 0..<248 only
        while bytes.count < length {
            let byte = UInt8.random(in: 0...UInt8.max, using: &rng)
            if byte < limit { bytes.append(alphabet[Int(byte % count)]) }
        }
        return APIKeyValue(unchecked: String(decoding: bytes, as: UTF8.self))
    }

    /// Builds a value already known to be valid (decrypted from storage, or generated).
    init(unchecked: String) { self.rawValue = unchecked }

    /// Masked form, safe for logs and debug output.
    public var description: String { "APIKeyValue(************)" }

    /// The masked form shown where the key must not be revealed: the last 4 characters only.
    public var masked: String { String(repeating: "•", count: 8) + String(rawValue.suffix(4)) }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}

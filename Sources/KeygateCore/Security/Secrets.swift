import Crypto
import Foundation

/// Session tokens and digests.
public enum Secrets {
    /// A new session token: 128 random bits as 32 lower-case hex digits (safe in a cookie value).
    public static func newSessionToken() -> String {
        var rng = SystemRandomNumberGenerator()
        let a = rng.next() as UInt64
        let b = rng.next() as UInt64
        return hex64(a) + hex64(b)
    }

    /// SHA-256 of `bytes`, lower-case hex.
    public static func sha256Hex(bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }

    /// Lower-case hex SHA-256 of `text`'s UTF-8: how tokens are stored and looked up (a cookie's `Substring` is
    /// hashed where it lies, without a copy).
    public static func sha256Hex(_ text: Substring) -> String {
        var text = text
        return text.withUTF8 { hex(SHA256.hash(data: $0)) }
    }

    /// Lower-case hex SHA-256 of `text`'s UTF-8.
    public static func sha256Hex(_ text: String) -> String {
        var text = text
        return text.withUTF8 { hex(SHA256.hash(data: $0)) }
    }

    /// Lower-case hex of `bytes`. Runs on every session check, so it writes the digits straight into the string's
    /// storage (formatting each byte with `String(format:)` cost a quarter of the request's CPU).
    public static func hex(_ bytes: some ContiguousBytes) -> String {
        bytes.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: 2 * bytes.count) { buffer in
                for (i, byte) in bytes.enumerated() {
                    buffer[2 * i] = hexDigit(byte >> 4)
                    buffer[2 * i + 1] = hexDigit(byte & 0x0F)
                }
                return 2 * bytes.count
            }
        }
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }

    /// Whether `token` has the shape of a session token (so junk never reaches the database).
    public static func isWellFormedToken(_ token: Substring) -> Bool {
        var token = token
        return token.withUTF8 { bytes in bytes.count == 32 && bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) } }
    }

    private static func hex64(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

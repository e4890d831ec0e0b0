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

    /// Lower-case hex SHA-256 of `text`: how tokens are stored and looked up.
    /// SHA-256 of `bytes`, lower-case hex.
    public static func sha256Hex(bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }

    public static func sha256Hex(_ text: String) -> String {
        var text = text
        let digest = text.withUTF8 { SHA256.hash(data: $0) }
        return hex(digest)
    }

    /// Lower-case hex of `bytes`. Runs on every session check, so it writes the digits directly (formatting each
    /// byte with `String(format:)` cost a quarter of the request's CPU).
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `token` has the shape of a session token (so junk never reaches the database).
    public static func isWellFormedToken(_ token: Substring) -> Bool {
        token.utf8.count == 32 && token.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    private static func hex64(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

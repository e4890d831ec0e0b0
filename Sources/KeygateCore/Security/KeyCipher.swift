import Crypto
import Foundation
import Synchronization

/// Seals API key values with AES-256-GCM under the server's master key, so the database never holds a key in
/// the clear.
///
/// Output format: `v1:` + base64(nonce ‖ ciphertext ‖ tag). The organization id is bound as authenticated data,
/// so a sealed value copied to another organization's row does not open. The `v1` prefix names the master key
/// generation, leaving room for rotating the master key without a flag day.
///
/// Opened values are memoized by their sealed text (at most 1,024, cleared when full), because `GET /apiKeys`
/// opens the same sealed value on every request. A sealed text always opens to the same value, so the memo needs
/// no invalidation; it holds only keys this process has already opened, in the process that holds the master key.
public struct KeyCipher: Sendable {
    private let key: SymmetricKey
    private let memo = OpenedKeys()

    /// The number of bytes in a master key.
    public static let masterKeyByteCount = 32

    /// Creates a cipher from a 32-byte master key.
    /// - Throws: ``KeygateError/invalidInput(_:)`` when the key is not 32 bytes.
    public init(masterKey: [UInt8]) throws {
        guard masterKey.count == Self.masterKeyByteCount else {
            throw KeygateError.invalidInput("master key must be 32 bytes")
        }
        self.key = SymmetricKey(data: masterKey)
    }

    /// Parses a master key written as 64 hex digits or base64 of 32 bytes (surrounding white space ignored).
    public static func parseMasterKey(_ text: String) throws -> [UInt8] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count == 64, let bytes = hexBytes(trimmed) { return bytes }
        if let data = Data(base64Encoded: trimmed), data.count == masterKeyByteCount { return Array(data) }
        throw KeygateError.invalidInput("master key must be 64 hex digits or base64 of 32 bytes")
    }

    /// A fresh random master key, hex encoded, for first start.
    public static func generateMasterKeyHex() -> String {
        Secrets.hex(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    /// Seals `value` for organization `orgID`.
    public func seal(_ value: APIKeyValue, orgID: Int64) throws -> String {
        let box = try AES.GCM.seal(Data(value.rawValue.utf8), using: key, authenticating: Self.aad(orgID))
        guard let combined = box.combined else { throw KeygateError.invalidInput("cannot seal key") }
        return "v1:" + combined.base64EncodedString()
    }

    /// Opens a value sealed by ``seal(_:orgID:)``.
    /// - Throws: when the master key is wrong, the data was tampered with, or it belongs to another organization.
    public func open(_ sealed: String, orgID: Int64) throws -> APIKeyValue {
        if let value = memo.value(sealed: sealed, orgID: orgID) { return value }
        let value = try openUncached(sealed, orgID: orgID)
        memo.store(value, sealed: sealed, orgID: orgID)
        return value
    }

    private func openUncached(_ sealed: String, orgID: Int64) throws -> APIKeyValue {
        guard sealed.hasPrefix("v1:"), let data = Data(base64Encoded: String(sealed.dropFirst(3))) else {
            throw KeyCipherError.unreadable
        }
        let box = try AES.GCM.SealedBox(combined: data)
        let clear = try AES.GCM.open(box, using: key, authenticating: Self.aad(orgID))
        return try APIKeyValue(validating: String(decoding: clear, as: UTF8.self))
    }

    private static func aad(_ orgID: Int64) -> Data { Data("keygate.apikey.org:\(orgID)".utf8) }

    private static func hexBytes(_ hex: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let hi = iterator.next(), let lo = iterator.next() {
            guard let h = hexValue(hi), let l = hexValue(lo) else { return nil }
            bytes.append(h << 4 | l)
        }
        return bytes
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
}

/// Values already opened, by organization and sealed text.
private final class OpenedKeys: Sendable {
    private struct Slot: Hashable {
        let orgID: Int64
        let sealed: String
    }

    private let table = Mutex<[Slot: APIKeyValue]>([:])

    func value(sealed: String, orgID: Int64) -> APIKeyValue? {
        table.withLock { $0[Slot(orgID: orgID, sealed: sealed)] }
    }

    func store(_ value: APIKeyValue, sealed: String, orgID: Int64) {
        table.withLock { table in
            if table.count >= 1024 { table.removeAll(keepingCapacity: true) }
            table[Slot(orgID: orgID, sealed: sealed)] = value
        }
    }
}

/// A sealed key that cannot be opened (wrong master key or damaged data).
public enum KeyCipherError: Error, Sendable {
    /// The stored text is not in the `v1:` format.
    case unreadable
}

import Crypto
import Foundation
import Synchronization

/// Seals API key values with AES-256-GCM under the server's master key, so the database never holds a key in
/// the clear.
///
/// Output format: `v2:` + key id + `:` + base64(nonce ‖ ciphertext ‖ tag). The key id (``MasterKeyring/keyID(of:)``)
/// names the master key that sealed the value, so that the master key can be rotated online: during a rotation a
/// process holds a keyring (the new key, which seals, and the previous one, which still opens) and `keygate master-key
/// rotate` re-seals row after row. Values written before key ids existed (`v1:` + base64) are opened by trying each
/// key of the ring, the sealing key first. The organization id is bound as authenticated data, so a sealed value
/// copied to another organization's row does not open.
///
/// A server reloads its keyring while it runs (``replaceKeyring(_:)``), so a rotation needs no restart.
///
/// Opened values are memoized by their sealed text (at most 1,024, cleared when full), because `GET /apiKeys`
/// opens the same sealed value on every request. A sealed text always opens to the same value, so the memo needs
/// no invalidation; it holds only keys this process has already opened, in the process that holds the master key.
public struct KeyCipher: Sendable {
    private let ring: RingBox
    private let memo = OpenedKeys()

    /// The number of bytes in a master key.
    public static let masterKeyByteCount = 32

    /// Creates a cipher from a 32-byte master key.
    /// - Throws: ``KeygateError/invalidInput(_:)`` when the key is not 32 bytes.
    public init(masterKey: [UInt8]) throws {
        try self.init(keyring: MasterKeyring(primary: masterKey))
    }

    /// Creates a cipher that seals with the keyring's primary key and opens with any of its keys.
    public init(keyring: MasterKeyring) throws {
        self.ring = RingBox(try ResolvedRing(keyring))
    }

    /// Replaces the keyring (a server reloading its key files): later seals use the new primary key.
    /// - Throws: ``KeygateError/invalidInput(_:)`` for a key that is not 32 bytes; the keyring is then unchanged.
    public func replaceKeyring(_ keyring: MasterKeyring) throws {
        let resolved = try ResolvedRing(keyring)
        ring.state.withLock { $0 = resolved }
    }

    /// The id of the key that seals.
    public var primaryKeyID: String { ring.state.withLock { $0.primaryID } }
    /// The ids of every key that opens, the sealing key first.
    public var keyIDs: [String] { ring.state.withLock { $0.order } }

    /// The id of the key that sealed `sealed`; nil for a value sealed before key ids existed (`v1:`) or unreadable.
    public static func keyID(ofSealed sealed: String) -> String? {
        guard sealed.hasPrefix("v2:") else { return nil }
        let rest = sealed.dropFirst(3)
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        return String(rest[..<colon])
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

    /// Seals `value` for organization `orgID` with the primary key.
    public func seal(_ value: APIKeyValue, orgID: Int64) throws -> String {
        try seal(Data(value.rawValue.utf8), aad: Self.aad(orgID))
    }

    /// Opens a value sealed by ``seal(_:orgID:)`` with any key of the ring.
    /// - Throws: when no key of the ring sealed it, the data was tampered with, or it belongs to another organization.
    public func open(_ sealed: String, orgID: Int64) throws -> APIKeyValue {
        if let value = memo.value(sealed: sealed, orgID: orgID) { return value }
        let value = try APIKeyValue(validating: try open(sealed, aad: Self.aad(orgID), onlyWith: nil))
        memo.store(value, sealed: sealed, orgID: orgID)
        return value
    }

    /// Opens `sealed` with exactly the key `keyID` names in the ring (a rotation's verification: "opens with the new key").
    public func open(_ sealed: String, orgID: Int64, onlyWith keyID: String) throws -> APIKeyValue {
        try APIKeyValue(validating: try open(sealed, aad: Self.aad(orgID), onlyWith: keyID))
    }

    /// Seals another secret (a webhook endpoint's signing secret) with the primary key, bound to `context` (for
    /// example `webhook:<organization id>`) as authenticated data. Same format as keys, so a rotation re-seals it alike.
    public func seal(secret: String, context: String) throws -> String {
        try seal(Data(secret.utf8), aad: Data("keygate.secret:\(context)".utf8))
    }

    /// Opens a secret sealed by ``seal(secret:context:)``, with any key of the ring (or only `keyID`).
    public func openSecret(_ sealed: String, context: String, onlyWith keyID: String? = nil) throws -> String {
        try open(sealed, aad: Data("keygate.secret:\(context)".utf8), onlyWith: keyID)
    }

    /// `v2:<primary key id>:` + base64(AES-GCM of `clear` under the primary key, `aad` authenticated).
    private func seal(_ clear: Data, aad: Data) throws -> String {
        let (id, key) = ring.state.withLock { ($0.primaryID, $0.keys[$0.primaryID]!) }
        guard let combined = try AES.GCM.seal(clear, using: key, authenticating: aad).combined else { throw KeyCipherError.unreadable }
        return "v2:\(id):" + combined.base64EncodedString()
    }

    /// Opens a `v2:` value with the key it names (which must be `onlyWith` when given), or a `v1:` value (no key
    /// id; sealed before rotation existed) by trying each key of the ring, the sealing key first.
    private func open(_ sealed: String, aad: Data, onlyWith required: String?) throws -> String {
        let ring = self.ring.state.withLock { $0 }
        let candidates: [(key: SymmetricKey, payload: Substring)]
        if let id = Self.keyID(ofSealed: sealed) {
            guard required == nil || required == id, let key = ring.keys[id] else { throw KeyCipherError.unknownKey }
            candidates = [(key, sealed.dropFirst(3 + id.count + 1))]
        } else {
            guard required == nil else { throw KeyCipherError.unknownKey }
            guard sealed.hasPrefix("v1:") else { throw KeyCipherError.unreadable }
            candidates = ring.order.map { (ring.keys[$0]!, sealed.dropFirst(3)) }
        }
        var lastError: any Error = KeyCipherError.unreadable
        for (key, payload) in candidates {
            guard let data = Data(base64Encoded: String(payload)) else { throw KeyCipherError.unreadable }
            do {
                let clear = try AES.GCM.open(try AES.GCM.SealedBox(combined: data), using: key, authenticating: aad)
                return String(decoding: clear, as: UTF8.self)
            } catch {
                lastError = error
            }
        }
        throw lastError
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
    /// The stored text is not in the `v1:` or `v2:` format.
    case unreadable
    /// It names a master key this keyring does not hold.
    case unknownKey
}

/// The master keys a process holds: one that seals (`primary`) and any that only open (`previous`: the key being
/// rotated away from).
public struct MasterKeyring: Sendable, Equatable {
    /// The key that seals, and opens.
    public var primary: [UInt8]
    /// Keys that only open.
    public var previous: [[UInt8]]

    public init(primary: [UInt8], previous: [[UInt8]] = []) {
        self.primary = primary
        self.previous = previous
    }

    /// A master key's public id: the first 16 hex digits of SHA-256 over a label and the key. It names the key in
    /// sealed values, heartbeats and the CLI's output without revealing anything usable about it.
    public static func keyID(of key: [UInt8]) -> String {
        String(Secrets.sha256Hex(bytes: Array("keygate.master-key-id:".utf8) + key).prefix(16))
    }
}

/// A keyring with its keys made and named.
private struct ResolvedRing: Sendable {
    let primaryID: String
    let keys: [String: SymmetricKey]
    let order: [String]

    init(_ keyring: MasterKeyring) throws {
        var keys: [String: SymmetricKey] = [:]
        var order: [String] = []
        for bytes in [keyring.primary] + keyring.previous {
            guard bytes.count == KeyCipher.masterKeyByteCount else { throw KeygateError.invalidInput("master key must be 32 bytes") }
            let id = MasterKeyring.keyID(of: bytes)
            if keys[id] == nil {
                keys[id] = SymmetricKey(data: bytes)
                order.append(id)
            }
        }
        self.primaryID = order[0]
        self.keys = keys
        self.order = order
    }
}

/// The keyring, replaceable while the process runs.
private final class RingBox: Sendable {
    let state: Mutex<ResolvedRing>
    init(_ ring: ResolvedRing) { state = Mutex(ring) }
}

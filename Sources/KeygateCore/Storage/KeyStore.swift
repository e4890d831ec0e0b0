import Foundation

/// The organization's one key, sealed: read it, and apply a change with its session effects and audit event.
///
/// One capability of ``KeygateStore``; the use cases of a concept need only theirs. The rules every method keeps
/// (one transaction each, change announcements) are ``KeygateStore``'s.
public protocol KeyStore: Sendable {
    /// The organization's key row, sealed; nil when it has none.
    func sealedKey(orgID: Int64) async throws -> SealedAPIKey?
    /// Any one stored key (the oldest), sealed; nil when no organization has one.
    func anySealedKey() async throws -> SealedAPIKey?
    /// Applies a key change with its session effect and audit event in one transaction.
    /// - Throws: ``KeygateError/editLockNotAvailable`` when `expectedVersion` is stale (a concurrent change won),
    ///   ``KeygateError/conflict(_:)`` when adding while a key exists.
    func applyKeyChange(_ change: KeyChange) async throws -> KeyChangeResult
    /// Up to `limit` key rows with ids above `afterID`, by id (a master-key rotation's pass).
    func sealedKeys(afterID: Int64, limit: Int) async throws -> [SealedAPIKey]
    /// Replaces sealed values in one transaction, each only where the row still holds `from` (a key changed meanwhile
    /// is left alone: it was sealed afresh). The key's value, version and sessions are untouched.
    /// - Returns: the rows replaced.
    func resealKeys(_ changes: [KeyReseal]) async throws -> Int
}

/// One stored key re-sealed under another master key.
public struct KeyReseal: Sendable {
    /// The key row.
    public var id: Int64
    /// Its organization (whose cached sessions hold the sealed text).
    public var orgID: Int64
    /// The sealed value it must still hold.
    public var from: String
    /// The value sealed under the new master key.
    public var to: String

    public init(id: Int64, orgID: Int64, from: String, to: String) {
        self.id = id
        self.orgID = orgID
        self.from = from
        self.to = to
    }
}

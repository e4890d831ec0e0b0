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
}

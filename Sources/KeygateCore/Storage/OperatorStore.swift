import Foundation

/// The provider console's operators and their browser sessions.
///
/// One capability of ``KeygateStore``; the use cases of a concept need only theirs. The rules every method keeps
/// (one transaction each, change announcements) are ``KeygateStore``'s.
public protocol OperatorStore: Sendable {
    /// Adds an operator. - Throws: ``KeygateError/conflict(_:)`` when the login name is taken.
    func insertOperator(_ op: ProviderOperator) async throws -> ProviderOperator
    /// The operator with this login name (case-insensitive), or nil.
    func providerOperator(loginName: String) async throws -> ProviderOperator?
    /// Every operator, by login name.
    func providerOperators() async throws -> [ProviderOperator]
    /// Disables or enables an operator; disabling also ends their console sessions.
    /// - Returns: false when no operator has that login name.
    func setOperatorDisabled(loginName: String, disabled: Bool) async throws -> Bool
    /// Stores a console session (hashed token) for an operator.
    func createOperatorSession(tokenHash: String, operatorID: Int64, at: Date) async throws
    /// The operator of a console session, when it was last seen and when it began, or nil.
    func operatorSession(tokenHash: String) async throws -> (ProviderOperator, lastSeenAt: Date, createdAt: Date)?
    /// Records activity on a console session.
    func touchOperatorSession(tokenHash: String, at: Date) async throws
    /// Ends console sessions, and those last seen before `idleBefore` when given. - Returns: how many.
    func deleteOperatorSessions(tokenHashes: [String], idleBefore: Date?) async throws -> Int
}

import Foundation

/// Each running server's heartbeat: which master keys it holds. A master-key rotation re-seals stored keys only once
/// every live server holds (and seals with) the new key, so no server meets a key it cannot open.
public protocol InstanceStore: Sendable {
    /// Records (or refreshes) one server's heartbeat.
    func recordInstance(_ heartbeat: InstanceHeartbeat) async throws
    /// The heartbeats seen since `since`, oldest first.
    func instances(seenSince since: Date) async throws -> [InstanceHeartbeat]
    /// Forgets one server (it is stopping), or every server not seen since `before` (housekeeping).
    func deleteInstances(id: String?, seenBefore before: Date?) async throws
}

/// One server's last heartbeat.
public struct InstanceHeartbeat: Sendable, Equatable {
    /// Random per process.
    public var id: String
    /// The id of the master key it seals with (``MasterKeyring/keyID(of:)``).
    public var primaryKeyID: String
    /// Every master key it can open with, the sealing key first.
    public var keyIDs: [String]
    /// When it last reported.
    public var seenAt: Date

    public init(id: String, primaryKeyID: String, keyIDs: [String], seenAt: Date) {
        self.id = id
        self.primaryKeyID = primaryKeyID
        self.keyIDs = keyIDs
        self.seenAt = seenAt
    }
}

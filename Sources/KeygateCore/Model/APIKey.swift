import Foundation

/// The organization's key with its metadata, generic over how the value is held: clear (``APIKey``, what the
/// domain works with) or sealed (``SealedAPIKey``, what storage holds; storage never sees a clear key).
public struct KeyRecord<Value: Sendable & Hashable>: Sendable, Hashable {
    /// Database id (changes when a key is deleted and another added).
    public var id: Int64
    /// Owning organization.
    public var orgID: Int64
    /// The key string, clear or sealed.
    public var value: Value
    /// Increments on every change; sessions are bound to the version they were made with.
    public var version: Int64
    /// False when the provider disabled it.
    public var enabled: Bool
    /// Last Modified By.
    public var lastModifiedBy: ChangeActor
    /// Last Modified On.
    public var lastModifiedAt: Date
    /// When a session was last created with it.
    public var lastUsedAt: Date?

    public init(
        id: Int64, orgID: Int64, value: Value, version: Int64, enabled: Bool, lastModifiedBy: ChangeActor,
        lastModifiedAt: Date, lastUsedAt: Date?
    ) {
        self.id = id
        self.orgID = orgID
        self.value = value
        self.version = version
        self.enabled = enabled
        self.lastModifiedBy = lastModifiedBy
        self.lastModifiedAt = lastModifiedAt
        self.lastUsedAt = lastUsedAt
    }

    /// The same record with its value transformed (sealing or opening it).
    public func map<Other>(_ transform: (Value) throws -> Other) rethrows -> KeyRecord<Other> {
        KeyRecord<Other>(
            id: id, orgID: orgID, value: try transform(value), version: version, enabled: enabled,
            lastModifiedBy: lastModifiedBy, lastModifiedAt: lastModifiedAt, lastUsedAt: lastUsedAt)
    }
}

/// The key as the domain sees it: the clear value plus its metadata.
public typealias APIKey = KeyRecord<APIKeyValue>

/// A key as stored: the value is ``KeyCipher`` output (`v2:<master key id>:` + base64 of AES-GCM), never the clear key.
public typealias SealedAPIKey = KeyRecord<String>

import Foundation

/// The organization's API key as the domain sees it: the clear value plus its metadata.
public struct APIKey: Sendable, Hashable {
    /// Database id (changes when a key is deleted and another added).
    public var id: Int64
    /// Owning organization.
    public var orgID: Int64
    /// The key string.
    public var value: APIKeyValue
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

    /// Creates a key value.
    public init(
        id: Int64, orgID: Int64, value: APIKeyValue, version: Int64, enabled: Bool, lastModifiedBy: ChangeActor,
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
}

/// A key row as stored: the value sealed with AES-GCM. Storage never sees the clear key.
public struct SealedAPIKey: Sendable, Hashable {
    /// Database id.
    public var id: Int64
    /// Owning organization.
    public var orgID: Int64
    /// `KeyCipher` output (versioned, base64).
    public var sealedValue: String
    /// Change counter.
    public var version: Int64
    /// False when the provider disabled it.
    public var enabled: Bool
    /// Last Modified By.
    public var lastModifiedBy: ChangeActor
    /// Last Modified On.
    public var lastModifiedAt: Date
    /// When a session was last created with it.
    public var lastUsedAt: Date?

    /// Creates a sealed key value.
    public init(
        id: Int64, orgID: Int64, sealedValue: String, version: Int64, enabled: Bool, lastModifiedBy: ChangeActor,
        lastModifiedAt: Date, lastUsedAt: Date?
    ) {
        self.id = id
        self.orgID = orgID
        self.sealedValue = sealedValue
        self.version = version
        self.enabled = enabled
        self.lastModifiedBy = lastModifiedBy
        self.lastModifiedAt = lastModifiedAt
        self.lastUsedAt = lastUsedAt
    }
}

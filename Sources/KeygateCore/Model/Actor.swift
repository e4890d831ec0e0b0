/// Who made a change: an organization admin, or the provider operating the server (the CLI or console).
public enum ChangeActor: Sendable, Hashable {
    /// An admin of the organization.
    case admin(id: Int64, name: String)
    /// The provider (operator) of the Keygate server.
    case provider(name: String)

    /// The stable kind stored with the change: `admin` or `provider`.
    public var kind: String {
        switch self {
        case .admin: "admin"
        case .provider: "provider"
        }
    }

    /// The admin id, or nil for the provider.
    public var adminID: Int64? {
        if case .admin(let id, _) = self { return id }
        return nil
    }

    /// The display name (Last Modified By).
    public var name: String {
        switch self {
        case .admin(_, let name), .provider(let name): name
        }
    }
}

import Foundation

/// The provider's authority over every organization: what the use cases that act across organizations (provisioning,
/// disabling a key, creating an admin without an admin, reading any organization's trail) require, as an admin's
/// use cases require a ``Principal``. No public variant of a use case acts without one or the other.
///
/// Only ``Keygate`` makes it, in two places: ``Keygate/operatorSession(token:)`` for a signed-in console operator, and
/// ``Keygate/commandLineProvider(operator:)`` for the operator's own command line. The HTTP layer never calls the
/// second (`CapabilityTests` reads `Sources/KeygateServer` to hold that), so a web request holds the provider's
/// authority only through a console session.
public struct Provider: Sendable, Hashable {
    /// Who acts, as Last Modified By and the audit trail show it.
    public let name: String

    init(name: String) { self.name = name }

    /// The actor of the changes it makes.
    public var actor: ChangeActor { .provider(name: name) }
}

extension Keygate {
    /// The provider's authority for the operator's command line: `keygate …` run where the database and the master key
    /// are, which is the authority itself. `name` is what the audit trail records (`provider:<user>`).
    public func commandLineProvider(operator name: String) -> Provider { Provider(name: name) }
}

import Hummingbird
import KeygateCore
import Logging
import NIOCore

/// The per-request context: the framework's storage, the caller's address, and (after the session check) the
/// authenticated principal.
public struct KeygateRequestContext: KeygateContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``SessionMiddleware`` on authenticated routes.
    public var principal: Principal? {
        get { sharedPrincipal?.value }
        set { sharedPrincipal = newValue.map(Shared.init) }
    }
    /// Set by ``PortalSessionMiddleware`` on a portal organization's pages.
    var portal: PortalContext.Resolved? {
        get { sharedPortal?.value }
        set { sharedPortal = newValue.map(Shared.init) }
    }
    /// Set by ``ConsoleSessionMiddleware`` on the provider console's signed-in pages.
    var console: ConsoleContext.Resolved? {
        get { sharedConsole?.value }
        set { sharedConsole = newValue.map(Shared.init) }
    }
    public var addresses: RequestAddresses
    /// Behind one reference each (see ``Shared``).
    private(set) var sharedPrincipal: Shared<Principal>?
    private var sharedPortal: Shared<PortalContext.Resolved>?
    private var sharedConsole: Shared<ConsoleContext.Resolved>?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.addresses = RequestAddresses(remote: source.channel.remoteAddress)
    }
}

/// A value kept behind one reference. Hummingbird copies the request context into every layer a request passes (a
/// middleware, a route group, the handler); with the principal (admin, role, key) stored inline, each copy retained
/// every string in it, which showed in the hot path's profile. Immutable, hence `Sendable`.
final class Shared<Value: Sendable>: Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Where a request came from: the TCP peer, and the client a trusted proxy named (``EdgeMiddleware``, see
/// ``TrustedProxies``). The text of an address is made when it is asked for (a login, an audit line, a portal
/// limit), not for every request: most session-checked calls never need it.
public struct RequestAddresses: Sendable {
    /// The TCP peer, as the channel reported it when the request arrived (read then: a channel forgets its addresses
    /// once closed, and a client that sends a login and hangs up must still be counted under its address).
    let remote: SocketAddress?
    /// The client a trusted proxy named, when it is not the peer itself.
    var forwarded: String?

    init(remote: SocketAddress?, forwarded: String? = nil) {
        self.remote = remote
        self.forwarded = forwarded
    }

    /// The TCP peer's IP address, or `unknown`.
    public var peer: String { remote?.ipAddress ?? "unknown" }
    /// The client's address, which login limits key on: the peer, or behind a trusted proxy the address it forwarded.
    public var client: String { forwarded ?? peer }
}

/// What every Keygate route's context offers, whichever it is: the client's address and the request limits.
public protocol KeygateContext: RequestContext {
    /// Where the request came from.
    var addresses: RequestAddresses { get }
}

extension KeygateContext {
    /// The TCP peer's IP address.
    public var peerAddress: String { addresses.peer }
    /// The client's address (behind a trusted proxy, the one it forwarded).
    public var clientAddress: String { addresses.client }

    /// Request bodies above this many bytes are refused with 413 before they are parsed (every Keygate context).
    public var maxUploadSize: Int { 64 * 1024 }

    /// A request body must arrive whole within this long (a slow-body client cannot hold a handler forever).
    static var bodyTimeout: Duration { .seconds(10) }

    /// The request's body, at most ``maxUploadSize`` bytes (413) within ``bodyTimeout`` (408).
    func collectBody(_ request: Request) async throws -> ByteBuffer {
        let limit = maxUploadSize
        return try await withThrowingTaskGroup(of: ByteBuffer.self) { group in
            group.addTask { try await request.body.collect(upTo: limit) }
            group.addTask {
                try await Task.sleep(for: Self.bodyTimeout)
                throw HTTPError(.requestTimeout, message: "the request body did not arrive in time")
            }
            defer { group.cancelAll() }
            guard let body = try await group.next() else { throw HTTPError(.requestTimeout) }
            return body
        }
    }
}

/// The context of every route behind the session check: the principal is there, not optional.
///
/// Built by Hummingbird from the parent context once ``SessionMiddleware`` has run; a request that reaches an
/// authenticated route without a principal cannot exist, and if it did its context would refuse to be built
/// (`401 SESSION_NOT_VALID`).
public struct APIContext: ChildRequestContext, KeygateContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller.
    public var principal: Principal { shared.value }
    public let addresses: RequestAddresses
    private let shared: Shared<Principal>

    public init(context: KeygateRequestContext) throws {
        guard let shared = context.sharedPrincipal else { throw KeygateError.sessionNotValid }
        self.coreContext = context.coreContext
        self.shared = shared
        self.addresses = context.addresses
    }
}

import Hummingbird
import KeygateCore
import Logging
import NIOCore

/// The per-request context: the framework's storage, the caller's address, and (after the session check) the
/// authenticated principal.
public struct KeygateRequestContext: KeygateContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``SessionMiddleware`` on authenticated routes.
    public var principal: Principal?
    /// Set by ``PortalSessionMiddleware`` on a portal organization's pages.
    var portal: PortalContext.Resolved?
    /// The TCP peer's IP address, or `unknown`.
    public let peerAddress: String
    /// The client's address, which login limits key on: the peer, or behind a trusted proxy the address it
    /// forwarded (``ClientAddressMiddleware``).
    public var clientAddress: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.peerAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
        self.clientAddress = self.peerAddress
    }
}

/// What every Keygate route's context offers, whichever it is: the client's address and the request limits.
public protocol KeygateContext: RequestContext {
    /// The TCP peer's IP address.
    var peerAddress: String { get }
    /// The client's address (behind a trusted proxy, the one it forwarded).
    var clientAddress: String { get }
}

extension KeygateContext {
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
    public let principal: Principal
    public let peerAddress: String
    public let clientAddress: String

    public init(context: KeygateRequestContext) throws {
        guard let principal = context.principal else { throw KeygateError.sessionNotValid }
        self.coreContext = context.coreContext
        self.principal = principal
        self.peerAddress = context.peerAddress
        self.clientAddress = context.clientAddress
    }
}

import Hummingbird
import KeygateCore
import Logging
import NIOCore

/// The per-request context: the framework's storage, the caller's address, and (after the session check) the
/// authenticated principal.
public struct KeygateRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``SessionMiddleware`` on authenticated routes.
    public var principal: Principal?
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

    /// Request bodies above this many bytes are refused with 413 before they are parsed.
    public var maxUploadSize: Int { 64 * 1024 }

    /// A request body must arrive whole within this long (a slow-body client cannot hold a handler forever).
    static let bodyTimeout: Duration = .seconds(10)

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

    /// The principal; only reachable behind ``SessionMiddleware``, so its absence is a session error.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw KeygateError.sessionNotValid }
        return principal
    }
}

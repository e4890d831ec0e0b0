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
    /// The peer's IP address (the rate limiter and login throttle key on it), or `unknown`.
    public let remoteAddress: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Request bodies above this many bytes are refused with 413 before they are parsed.
    public var maxUploadSize: Int { 64 * 1024 }

    /// The principal; only reachable behind ``SessionMiddleware``, so its absence is a session error.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw KeygateError.sessionNotValid }
        return principal
    }
}

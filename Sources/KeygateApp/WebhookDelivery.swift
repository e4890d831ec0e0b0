import AsyncHTTPClient
import Foundation
import KeygateCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Sends webhook requests with async-http-client: no redirects followed, a timeout per request, and the SSRF guard.
///
/// **SSRF guard**: unless `webhooks.allowPrivateTargets` is set, a target whose host resolves to any loopback, private,
/// link-local, shared or reserved address (``InternalAddress``) is refused before a connection is made, at every
/// attempt (a name that resolved to a public address at registration may not any more). What remains: a name whose
/// answer changes between this check and the client's own lookup (DNS rebinding within seconds); the check runs right
/// before the request to keep that window small.
struct HTTPWebhookSender: WebhookSender {
    let client: HTTPClient
    let policy: WebhookRules.TargetPolicy
    /// Where the guard's blocking `getaddrinfo` runs: a pool of its own, so that a slow resolver never holds the
    /// shared pool that bcrypt and SQLite work on.
    let resolverPool: NIOThreadPool

    func post(url: String, headers: [(String, String)], body: [UInt8], timeout: TimeInterval) async -> (statusCode: Int?, error: String?) {
        do {
            _ = try WebhookRules.validateURL(url, policy: policy)
            if !policy.allowPrivate, let host = URLComponents(string: url)?.host {
                try await Self.refuseInternal(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), on: resolverPool)
            }
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            // Read (and drop) at most 64 KiB of the answer, so the connection can be reused and a huge answer costs nothing.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return (Int(response.status.code), nil)
        } catch let error as KeygateError {
            return (nil, error.message)
        } catch {
            return (nil, "\(error)".prefix(300).description)
        }
    }

    /// Resolves `host` (with `resolve`: the system's resolver, or a test's table) and throws when any of its
    /// addresses is internal or it has none.
    static func refuseInternal(
        _ host: String, on pool: NIOThreadPool = .singleton, resolve: @escaping @Sendable (String) -> [[UInt8]] = systemAddresses
    ) async throws {
        if let literal = InternalAddress.check(host) {
            if literal { throw KeygateError.invalidInput("the target is a loopback, link-local or private address") }
            return
        }
        let addresses = try await pool.runIfActive { resolve(host) }
        guard !addresses.isEmpty else { throw KeygateError.invalidInput("the target's host does not resolve") }
        if addresses.contains(where: InternalAddress.isInternal(bytes:)) {
            throw KeygateError.invalidInput("the target resolves to a loopback, link-local or private address")
        }
    }

    /// The IPv4 and IPv6 addresses `host` resolves to with `getaddrinfo` (blocking), as bytes; empty when it does not.
    @Sendable static func systemAddresses(_ host: String) -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var out: [[UInt8]] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if entry.pointee.ai_family == AF_INET, let raw = entry.pointee.ai_addr {
                raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { out.append(withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) }) }
            } else if entry.pointee.ai_family == AF_INET6, let raw = entry.pointee.ai_addr {
                raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { out.append(withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) }) }
            }
            cursor = entry.pointee.ai_next
        }
        return out
    }
}

/// Delivers due webhook events: every second (at once again while there is more), any server, any number of them.
/// A slow or dead receiver holds only this service's tasks, never an API request: enqueueing is a few inserts in the
/// change's own transaction, and sending happens here.
public struct WebhookDeliveryService: Service, CustomStringConvertible {
    let keygate: Keygate
    let logger: Logger

    public init(keygate: Keygate, logger: Logger) {
        self.keygate = keygate
        self.logger = logger
    }

    public var description: String { "WebhookDeliveryService" }

    public func run() async throws {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(5))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let resolverPool = NIOThreadPool(numberOfThreads: 2)
        resolverPool.start()
        let sender = HTTPWebhookSender(client: client, policy: keygate.environment.webhookSettings.policy, resolverPool: resolverPool)
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    var sent = 0
                    do {
                        sent = try await keygate.webhooks.deliverDueWebhooks(sender: sender)
                    } catch {
                        logger.warning("webhook delivery round failed", metadata: ["error": "\(String(reflecting: error))"])
                    }
                    if sent < 20 { try await Task.sleep(for: .seconds(1)) }
                }
            }
        } catch is CancellationError {}
        try? await client.shutdown()
        try? await resolverPool.shutdownGracefully()
    }
}

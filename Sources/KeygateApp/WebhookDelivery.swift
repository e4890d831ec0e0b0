import AsyncHTTPClient
import Foundation
import KeygateCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Sends webhook requests with async-http-client: no redirects followed, a timeout per request, and the SSRF guard.
///
/// **SSRF guard**: the target's host is resolved once per attempt (``resolve``, on a thread pool of its own so a slow
/// resolver never holds the pool bcrypt and SQLite use, and bounded by the attempt's timeout). Unless
/// `webhooks.allowPrivateTargets` is set, every answer must be a public address (``InternalAddress``) or the attempt is
/// refused before any connection. The connection then goes to exactly the vetted address: a client made for this one
/// attempt, whose `dnsOverride` maps the host name to it (so TLS still sends the name as SNI and checks the
/// certificate for it, and the Host header is the name), and which is shut down afterwards, so no pooled connection
/// outlives the resolution it was made for. A name that answers a public address to the guard and 127.0.0.1 a moment
/// later (DNS rebinding) therefore never reaches 127.0.0.1.
///
/// The outcome is a coarse class (``WebhookSendResult``) for anything but an answer: no error text or timing of a
/// refused or unreachable target reaches the delivery log.
struct HTTPWebhookSender: WebhookSender {
    let policy: WebhookRules.TargetPolicy
    /// Where the guard's blocking `getaddrinfo` runs.
    let resolverPool: NIOThreadPool
    /// The resolver: the system's (`getaddrinfo`), or a test's.
    var resolve: @Sendable (String) -> [[UInt8]] = HTTPWebhookSender.systemAddresses

    func post(url: String, headers: [(String, String)], body: [UInt8], timeout: TimeInterval) async -> WebhookSendResult {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        // The host as async-http-client reads it (Foundation's `URL`), which is the name `dnsOverride` must map; the guard's
        // reading (`URLComponents`) must agree, or the pin could miss and the client resolve the name itself.
        guard (try? WebhookRules.validateURL(url, policy: policy)) != nil, let checked = URLComponents(string: url)?.host,
            let host = URL(string: url)?.host.map(Self.unbracketed), host == Self.unbracketed(checked)
        else { return .notAllowed }
        let address: String
        do {
            address = try await vettedAddress(host, deadline: deadline)
        } catch is AttemptTimedOut {
            return .timedOut
        } catch {
            return .notAllowed
        }
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(5))
        // One connection attempt: a refused or unreachable target is that, not retried until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.dnsOverride = [host: address]
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let result = await Self.send(url: url, headers: headers, body: body, with: client, deadline: deadline)
        try? await client.shutdown()
        return result
    }

    private static func send(
        url: String, headers: [(String, String)], body: [UInt8], with client: HTTPClient, deadline: ContinuousClock.Instant
    ) async -> WebhookSendResult {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(request, deadline: NIODeadline.now() + .nanoseconds(nanoseconds(until: deadline)))
            let milliseconds = Int((ContinuousClock.now - started) / .milliseconds(1))
            // Read (and drop) at most 64 KiB of the answer: a huge answer costs nothing.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return .answered(status: Int(response.status.code), milliseconds: milliseconds)
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .writeTimeout].contains(error) {
            return .timedOut
        } catch {
            return ContinuousClock.now >= deadline ? .timedOut : .unreachable
        }
    }

    /// The one address this attempt connects to: an IP literal as it is (any IPv4 form, normalised), else the first
    /// answer of one resolution, every answer checked.
    /// - Throws: ``KeygateError/invalidInput(_:)`` when the guard refuses it or nothing resolves; `AttemptTimedOut`.
    func vettedAddress(_ host: String, deadline: ContinuousClock.Instant) async throws -> String {
        if let literal = InternalAddress.literalBytes(host) {
            if !policy.allowPrivate, InternalAddress.isInternal(bytes: literal) {
                throw KeygateError.invalidInput("the target is not a public address")
            }
            return Self.text(literal)
        }
        guard let addresses = await Self.resolve(host, with: resolve, on: resolverPool, until: deadline) else { throw AttemptTimedOut() }
        guard !addresses.isEmpty else { throw KeygateError.invalidInput("the target's host does not resolve") }
        if !policy.allowPrivate, addresses.contains(where: InternalAddress.isInternal(bytes:)) {
            throw KeygateError.invalidInput("the target resolves to an address that is not public")
        }
        // IPv4 first when there is one: a machine without IPv6 connectivity would find the first IPv6 answer unreachable.
        return Self.text(addresses.first { $0.count == 4 } ?? addresses[0])
    }

    /// One blocking resolution on `pool`, waited for until `deadline` and no longer: at the deadline the answer is nil
    /// and the lookup is left to finish on its thread (`getaddrinfo` cannot be interrupted), so a name server that
    /// never answers holds a resolver thread, never an attempt past its time.
    static func resolve(
        _ host: String, with resolve: @escaping @Sendable (String) -> [[UInt8]], on pool: NIOThreadPool, until deadline: ContinuousClock.Instant
    ) async -> [[UInt8]]? {
        let once = ResumeOnce()
        return await withCheckedContinuation { (continuation: CheckedContinuation<[[UInt8]]?, Never>) in
            let finish: @Sendable ([[UInt8]]?) -> Void = { answer in
                if once.claim() { continuation.resume(returning: answer) }
            }
            pool.submit { state in finish(state == .active ? resolve(host) : nil) }
            let seconds = Double(nanoseconds(until: deadline)) / 1e9
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { finish(nil) }
        }
    }

    struct AttemptTimedOut: Error {}

    static func unbracketed(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    static func nanoseconds(until deadline: ContinuousClock.Instant) -> Int64 {
        let left = deadline - ContinuousClock.now
        return max(0, left.components.seconds * 1_000_000_000 + left.components.attoseconds / 1_000_000_000)
    }

    /// An address's bytes as text: `a.b.c.d`, or IPv6 as `inet_ntop` writes it.
    static func text(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes.prefix(16)) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
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

/// Lets the first of several racers resume a continuation.
private final class ResumeOnce: Sendable {
    private let done = Atomic<Bool>(false)
    /// True for the first caller only.
    func claim() -> Bool { !done.exchange(true, ordering: .acquiringAndReleasing) }
}

/// Delivers due webhook events on every server, any number of them, from a pool of ``capacity`` sending slots: it
/// claims due deliveries as slots free up (and every second), so no delivery waits for another's slow receiver, and
/// the claim takes organizations in turn and gives none more than `webhooks.maxInFlightPerOrganization` slots, so one
/// tenant's dead receivers cannot hold another's events. A slow or dead receiver holds only this service's tasks,
/// never an API request: enqueueing is a few inserts in the change's own transaction, and sending happens here.
public struct WebhookDeliveryService: Service, CustomStringConvertible {
    let keygate: Keygate
    let logger: Logger
    /// Deliveries this server sends at once.
    public static let capacity = 20

    public init(keygate: Keygate, logger: Logger) {
        self.keygate = keygate
        self.logger = logger
    }

    public var description: String { "WebhookDeliveryService" }

    public func run() async throws {
        // A thread per sending slot and more: a lookup that outlives its attempt keeps its thread, and the others must
        // still find one.
        let resolverPool = NIOThreadPool(numberOfThreads: 2 * Self.capacity)
        resolverPool.start()
        let sender = HTTPWebhookSender(policy: keygate.environment.webhookSettings.policy, resolverPool: resolverPool)
        do {
            try await cancelWhenGracefulShutdown { try await send(with: sender) }
        } catch is CancellationError {}
        try? await resolverPool.shutdownGracefully()
    }

    /// The pool: each child task is a delivery (true when it ends) or the one-second tick (false).
    func send(with sender: any WebhookSender) async throws {
        let webhooks = keygate.webhooks
        try await withThrowingTaskGroup(of: Bool.self) { group in
            var inFlight = 0
            var ticks = 0
            group.addTask {
                try await Task.sleep(for: .seconds(1))
                return false
            }
            while true {
                if inFlight < Self.capacity {
                    do {
                        for job in try await webhooks.claimDueWebhooks(limit: Self.capacity - inFlight) {
                            inFlight += 1
                            group.addTask {
                                if let reason = await webhooks.deliver(job, sender: sender) {
                                    logger.notice(
                                        "webhook endpoint disabled",
                                        metadata: ["org": "\(job.orgID)", "endpoint": "\(job.endpointID)", "reason": "\(reason)"])
                                }
                                return true
                            }
                        }
                    } catch is CancellationError {
                        return  // stopping
                    } catch {
                        logger.warning("webhook delivery claim failed", metadata: ["error": "\(String(reflecting: error))"])
                    }
                }
                guard let finished = try await group.next() else { return }
                if finished {
                    inFlight -= 1
                } else {
                    ticks += 1
                    if ticks % 5 == 0 {
                        do {
                            let dropped = try await webhooks.limitBacklog()
                            if dropped > 0 {
                                logger.notice("webhook backlog over its limit: oldest deliveries failed", metadata: ["count": "\(dropped)"])
                            }
                        } catch {
                            logger.warning("webhook backlog limit failed", metadata: ["error": "\(String(reflecting: error))"])
                        }
                    }
                    group.addTask {
                        try await Task.sleep(for: .seconds(1))
                        return false
                    }
                }
            }
        }
    }
}

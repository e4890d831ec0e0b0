import Foundation
import Hummingbird
import HummingbirdTesting
import KeygateCore
import KeygateStorage
import Logging
import NIOPosix
import Synchronization
import Testing

@testable import KeygateApp

#if canImport(Glibc)
    import Glibc
#endif

/// A receiver on 127.0.0.1 that answers 200 and records, per path name, when each request came and its Host header.
final class LiveReceiver: Sendable {
    struct Arrival: Sendable {
        let at: ContinuousClock.Instant
        let host: String?
    }
    let arrivals = Mutex<[String: [Arrival]]>([:])

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("ok/{name}") { request, context -> HTTPResponse.Status in
            let name = context.parameters.get("name") ?? ""
            let arrival = Arrival(at: .now, host: request.head.authority)
            self.arrivals.withLock { $0[name, default: []].append(arrival) }
            return .ok
        }
        return router
    }

    func first(_ name: String) -> Arrival? { arrivals.withLock { $0[name]?.first } }
    var total: Int { arrivals.withLock { $0.values.map(\.count).reduce(0, +) } }
}

/// A TCP port that takes connections (the kernel's backlog) and never answers: a receiver that hangs.
final class SilentListener: Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 512) == 0 else {
            close(fd)
            throw KeygateError.invalidInput("cannot listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }

    /// A port nothing listens on: one the kernel gave a socket that was closed again (without listening).
    static func unusedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw KeygateError.invalidInput("cannot bind") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// The sender over real sockets: the guard, the address it connects to, and what the log may say.
@Suite("Webhook sender: a guard that holds")
struct WebhookSenderTests {
    static let table: [String: [[UInt8]]] = [
        "loopback.test": [[127, 0, 0, 1]],
        "mixed.test": [[93, 184, 215, 14], [10, 1, 2, 3]],
        "v6-loopback.test": [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
        "mapped.test": [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 168, 1, 1]],
        "doc.test": [[203, 0, 113, 9]],
        "public.test": [[93, 184, 215, 14]],
        "public6.test": [[0x26, 0x06, 0x47, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0x11]],
    ]

    /// The resolver's own threads, as the delivery service has (the shared pool is busy with other tests' bcrypt).
    static let resolverPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    static func sender(_ policy: WebhookRules.TargetPolicy = .init(), resolve: @escaping @Sendable (String) -> [[UInt8]] = { table[$0] ?? [] })
        -> HTTPWebhookSender
    {
        HTTPWebhookSender(policy: policy, resolverPool: resolverPool, resolve: resolve)
    }

    @Test("every answer of the one resolution is checked; the address connected to is the vetted one, as text")
    func vetting() async throws {
        let sender = Self.sender()
        let deadline = ContinuousClock.now + .seconds(5)
        for host in [
            "loopback.test", "mixed.test", "v6-loopback.test", "mapped.test", "doc.test", "no-such-host.test", "127.0.0.1", "::1", "2130706433",
            "0x7f.1",
        ] {
            await #expect(throws: KeygateError.self, "\(host)") { _ = try await sender.vettedAddress(host, deadline: deadline) }
        }
        #expect(try await sender.vettedAddress("public.test", deadline: deadline) == "93.184.215.14")
        #expect(try await sender.vettedAddress("public6.test", deadline: deadline) == "2606:4700::1111")
        #expect(try await sender.vettedAddress("0x5db8d70e", deadline: deadline) == "93.184.215.14", "a numeric form, normalised")
        // A resolver that never answers ends with the attempt's time, as no answer.
        let stuck = Self.sender { _ in
            Thread.sleep(forTimeInterval: 2)
            return [[93, 184, 215, 14]]
        }
        let started = ContinuousClock.now
        await #expect(throws: HTTPWebhookSender.AttemptTimedOut.self) {
            _ = try await stuck.vettedAddress("slow.test", deadline: .now + .milliseconds(200))
        }
        #expect(ContinuousClock.now - started < .seconds(1), "the attempt ends at its deadline, not when the lookup does")
    }

    @Test("the connection goes to the address the guard vetted: a name only the test's resolver knows reaches the receiver, with its Host")
    func pinned() async throws {
        let receiver = LiveReceiver()
        try await Application(router: receiver.router).test(.live) { client in
            let port = try #require(client.port)
            // `.test` names never resolve in DNS (RFC 6761): only the vetted address can be where the request went.
            let sender = Self.sender(.init(allowHTTP: true, allowPrivate: true)) { $0 == "pinned.test" ? [[127, 0, 0, 1]] : [] }
            let result = await sender.post(url: "http://pinned.test:\(port)/ok/pinned", headers: [], body: [], timeout: 5)
            guard case .answered(200, _) = result else {
                Issue.record("not answered: \(result)")
                return
            }
            #expect(receiver.first("pinned")?.host == "pinned.test:\(port)")
        }
    }

    /// With the `pinned` test (the connection goes where the guard's resolution said): a name whose answers flip is
    /// resolved once per attempt and its loopback answers are refused, so no attempt reaches loopback.
    @Test("a name whose answers flip between public and loopback (DNS rebinding): one resolution per attempt, loopback refused")
    func rebinding() async throws {
        let receiver = LiveReceiver()
        try await Application(router: receiver.router).test(.live) { client in
            let port = try #require(client.port)
            let calls = Mutex(0)
            let sender = Self.sender(.init(allowHTTP: true, allowPrivate: false)) { _ in
                // 93.184.215.14 is public (and has no route from a test machine): the guard lets it through, and the
                // connection goes there, never to the loopback answer the next resolution gives.
                let call = calls.withLock {
                    $0 += 1
                    return $0
                }
                return call % 2 == 1 ? [[93, 184, 215, 14]] : [[127, 0, 0, 1]]
            }
            var outcomes: [WebhookSendResult] = []
            for attempt in 0..<10 {
                outcomes.append(await sender.post(url: "http://rebind.test:\(port)/ok/rebind-\(attempt)", headers: [], body: [], timeout: 1))
            }
            #expect(receiver.total == 0, "loopback was reached")
            #expect(calls.withLock { $0 } == 10, "one resolution per attempt")
            #expect(outcomes.filter { $0 == .notAllowed }.count == 5)
            #expect(outcomes.allSatisfy { $0 == .notAllowed || $0 == .unreachable || $0 == .timedOut })
        }
    }

    @Test("the log's classes: refused, unreachable and no answer say nothing more and carry no timing")
    func outcomeClasses() async throws {
        let lab = Self.sender(.init(allowHTTP: true, allowPrivate: true))
        let silent = try SilentListener()
        #expect(await lab.post(url: "http://127.0.0.1:\(silent.port)/x", headers: [], body: [], timeout: 0.5) == .timedOut)
        // A port nobody listens on: connection refused at once.
        #expect(await lab.post(url: "http://127.0.0.1:\(try SilentListener.unusedPort())/x", headers: [], body: [], timeout: 2) == .unreachable)
        #expect(await Self.sender().post(url: "https://loopback.test/x", headers: [], body: [], timeout: 2) == .notAllowed)
        #expect(await Self.sender().post(url: "https://2130706433/x", headers: [], body: [], timeout: 2) == .notAllowed)
    }
}

/// Fair delivery with real slow receivers: one organization's dead endpoints cannot hold another's events.
@Suite("Webhook delivery: fair across organizations")
struct WebhookFairnessTests {
    /// Runs the server's delivery pool with `perOrganization` slots for each organization and returns how long
    /// Bravo's one event took to arrive while Acme's 20 endpoints (57 events) hang until `timeout`.
    static func bravoWait(perOrganization: Int, timeout: TimeInterval) async throws -> Duration {
        let waited = Mutex(Duration.zero)
        try await Harness.with { harness, _ in
            let silent = try SilentListener()
            let receiver = LiveReceiver()
            try await Application(router: receiver.router).test(.live) { client in
                var settings = WebhookSettings()
                settings.policy = .init(allowHTTP: true, allowPrivate: true)
                settings.timeout = timeout
                settings.maxInFlightPerOrganization = perOrganization
                let keygate = Keygate(
                    store: harness.store, cipher: harness.keygate.cipher, hasher: harness.keygate.environment.hasher,
                    decoys: harness.keygate.environment.decoys, webhooks: settings)
                let provider = keygate.commandLineProvider(operator: "test")
                let bravo = try await keygate.organizations.provisionOrganization(provider, name: "Bravo", adminLogin: "bravo", password: nil)
                func endpoint(_ orgID: Int64, _ url: String) async throws -> WebhookEndpoint {
                    try await harness.store.insertWebhookEndpoint(
                        WebhookEndpoint(id: 0, orgID: orgID, url: url, events: [.keyAdded], enabled: true, createdAt: Date()),
                        sealedSecret: try keygate.cipher.seal(secret: WebhookRules.newSecret(), context: "webhook:\(orgID)"), limit: 100,
                        audit: AuditEvent(orgID: orgID, at: Date(), actor: .provider(name: "t"), action: .webhookCreated, detail: ""))
                }
                func enqueue(_ endpoint: WebhookEndpoint) async throws {
                    let id = WebhookPayload.newEventID()
                    let payload = WebhookPayload.json(id: id, type: .test, at: Date(), orgID: endpoint.orgID, actor: .provider(name: "t"), data: [:])
                    _ = try await harness.store.enqueueWebhookTest(endpoint: endpoint, payload: payload, eventID: id, at: Date())
                }
                var dead: [WebhookEndpoint] = []
                for i in 0..<20 { dead.append(try await endpoint(harness.orgID, "http://127.0.0.1:\(silent.port)/dead/\(i)")) }
                for i in 0..<57 { try await enqueue(dead[i % 20]) }
                let ok = try await endpoint(bravo.organization.id, "http://127.0.0.1:\(try #require(client.port))/ok/bravo")
                let service = WebhookDeliveryService(keygate: keygate, logger: Logger(label: "test"))
                let sender = HTTPWebhookSender(policy: settings.policy, resolverPool: .singleton)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await service.send(with: sender) }
                    try await Task.sleep(for: .milliseconds(1500))  // Acme's deliveries are in flight and hanging
                    let enqueued = ContinuousClock.now
                    try await enqueue(ok)
                    try await eventually("Bravo's event arrives", timeout: .seconds(30)) { receiver.first("bravo") != nil }
                    let arrived = try #require(receiver.first("bravo")).at
                    waited.withLock { $0 = arrived - enqueued }
                    group.cancelAll()
                }
            }
        }
        return waited.withLock { $0 }
    }

    @Test(
        "one organization's 20 dead endpoints and 57 events: another's event arrives within 2 s; without the per-organization cap it waits for them")
    func fairness() async throws {
        let fair = try await Self.bravoWait(perOrganization: 4, timeout: 10)
        print("webhook fairness: Bravo's event arrived \(fair) after it was queued (Acme: 20 hanging endpoints, 57 events, 4 slots each)")
        #expect(fair < .seconds(2))
        // The same with every slot open to one organization: its hanging receivers hold them all until they time out.
        let unfair = try await Self.bravoWait(perOrganization: 20, timeout: 4)
        print("webhook fairness: without the cap, Bravo waited \(unfair)")
        #expect(unfair > .seconds(2))
    }
}

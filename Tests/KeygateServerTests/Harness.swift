import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateApp
import KeygateCore
import KeygatePasswords
import KeygateServer
import KeygateStorage
import Logging
import NIOCore
import Synchronization
import Testing

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let value = Mutex(Date())
    var now: Date { value.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A Keygate on a fresh SQLite database with one provisioned organization, and the router in front of it.
///
/// The session cache is on, with its change watcher running, as in `keygate serve`: every HTTP test also checks
/// that the cache never answers differently from the database.
struct Harness {
    static let password = "Passw0rd!x"

    let keygate: Keygate
    let store: SQLKeygateStore
    let db: any DatabaseHandle
    let clock: TestClock
    let org: ProvisioningResult
    let path: String
    let directory: URL

    /// Runs `body` with a harness and its router; everything (the change watcher, the database) stops when it ends.
    /// - Parameter limits: request limits (off unless a test is about them).
    static func with(
        limits: RateLimiter.Limits = .off, throttle: LoginThrottle.Limits = .init(), trustProxy: Bool = false,
        cacheMaxAge: TimeInterval = 2, browserLimits: (perSecond: Int, perMinute: Int) = (100_000, 100_000),
        _ body: (Harness, Router<KeygateRequestContext>) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keygate-http-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("k.sqlite").path
        let clock = TestClock()
        // The composition root the server uses, from a configuration value (the executable builds the same value
        // from flags and environment).
        try await KeygateSystem.with(
            .testing(
                database: path, clock: clock, loginLimits: throttle, cacheMaxAge: cacheMaxAge,
                server: ServerSettings(trustForwardedProto: trustProxy, rateLimits: limits, browserLimits: browserLimits)),
            logger: Logger(label: "test"), serving: true
        ) { system in
            let db = system.database
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await ChangeWatcher(db: db, logger: Logger(label: "test")).run() }
                do {
                    // Tests arrange state the API cannot (a key deleted under a live session, a second process): their own view.
                    let store = SQLKeygateStore(db: db)
                    let keygate = system.keygate
                    let cache = try #require(keygate.sessionCache)
                    try await eventually("the session cache serves", timeout: .seconds(10)) { cache.isLive }
                    let org = try await keygate.organizations.provisionOrganization(
                        keygate.commandLineProvider(operator: "test"), name: "Acme", adminLogin: "root", password: password)
                    let harness = Harness(keygate: keygate, store: store, db: db, clock: clock, org: org, path: path, directory: directory)
                    try await body(harness, system.router())
                    group.cancelAll()
                } catch {
                    group.cancelAll()
                    throw error
                }
            }
        }
    }

    var orgID: Int64 { org.organization.id }

    /// The session cache (the harness always has one).
    var cache: SessionCache { keygate.sessionCache! }

    /// The current key's clear value.
    func currentKey() async throws -> String? {
        try await keygate.keys.currentKey(keygate.commandLineProvider(operator: "test"), orgID: orgID)?.value.rawValue
    }

    /// Creates a role with the given API key access and an admin holding it; returns the admin's login.
    func addAdmin(_ login: String, access: FeatureAccess) async throws -> String {
        let role = try await store.insertRole(
            Role(id: 0, orgID: orgID, name: "role-\(login)", featurePermissions: [Role.apiKeyManagement: access]),
            audit: AuditEvent(orgID: orgID, at: clock.now, actor: .provider(name: "t"), action: .roleCreated, detail: ""))
        _ = try await keygate.admins.createAdmin(
            keygate.commandLineProvider(operator: "t"), orgID: orgID, draft: AdminDraft(loginName: login, roleID: role.id, password: Self.password))
        return login
    }

    /// A login body for `key` at the test clock's time (each call a new millisecond, so no replay).
    func loginBody(user: String = "root", password: String = Harness.password, key: String, numeric: Bool = true, skewSeconds: Double = 0) -> [String:
        Any]
    {
        clock.advance(0.002)
        let ms = Int64((clock.now.timeIntervalSince1970 + skewSeconds) * 1000)
        let obfuscated = KeyObfuscation.obfuscate(try! APIKeyValue(validating: key), timestamp: String(ms))!
        return ["apiKey": obfuscated, "username": user, "password": password, "timestamp": numeric ? ms as Any : String(ms) as Any]
    }
}

extension TestClientProtocol {
    /// Sends a request; `json` is encoded with JSONSerialization (so tests can send any shape).
    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ uri: String, session: String? = nil, json: Any? = nil, raw: String? = nil,
        contentType: String? = "application/json", headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let session { headers[.cookie] = "JSESSIONID=\(session)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        } else if let raw {
            body = ByteBuffer(string: raw)
        }
        if body != nil, let contentType { headers[.contentType] = contentType }
        return try await execute(uri: uri, method: method, headers: headers, body: body) { response in
            TestResponse(status: response.status, headers: response.headers, body: response.body)
        }
    }

    /// Logs in and returns the session token.
    func login(_ harness: Harness, user: String = "root", key: String? = nil, path: String = "/api/v1/auth") async throws -> String {
        let currentKey = try await harness.currentKey()
        let key = key ?? currentKey!
        let response = try await send(.post, path, json: harness.loginBody(user: user, key: key))
        try #require(response.status == .ok, "login failed: \(response.text)")
        let cookie = try #require(response.headers[.setCookie])
        return String(cookie.split(separator: ";")[0].dropFirst("JSESSIONID=".count))
    }
}

/// A response captured for assertions.
struct TestResponse: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer

    var text: String { String(buffer: body) }
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    /// The legacy error code.
    var code: String? { object["code"] as? String }
}

/// Runs `body` against a fresh harness through the router (no sockets).
func withServer(
    limits: RateLimiter.Limits = .off, throttle: LoginThrottle.Limits = .init(), trustProxy: Bool = false,
    cacheMaxAge: TimeInterval = 2, browserLimits: (perSecond: Int, perMinute: Int) = (100_000, 100_000),
    _ body: @Sendable (Harness, any TestClientProtocol) async throws -> Void
) async throws {
    try await Harness.with(
        limits: limits, throttle: throttle, trustProxy: trustProxy, cacheMaxAge: cacheMaxAge, browserLimits: browserLimits
    ) { harness, router in
        try await Application(router: router).test(.router) { client in try await body(harness, client) }
    }
}

extension KeygateConfiguration {
    /// A test configuration: a fresh SQLite file, a fixed master key, bcrypt at its cheapest, the test clock.
    static func testing(
        database: String, clock: TestClock, loginLimits: LoginThrottle.Limits = .init(), cacheMaxAge: TimeInterval = 2,
        server: ServerSettings = ServerSettings(rateLimits: .off, browserLimits: (100_000, 100_000))
    ) -> KeygateConfiguration {
        KeygateConfiguration(
            database: database, masterKey: Array(repeating: 7, count: 32), bcryptCost: 4, loginLimits: loginLimits,
            sessionCacheMaxAge: cacheMaxAge, server: server, now: { clock.now })
    }
}

/// A wait that ended at its deadline: thrown by ``eventually(_:timeout:_:)``, which fails the test.
struct WaitTimedOut: Error, CustomStringConvertible {
    let what: String
    let timeout: Duration
    var description: String { "waited \(timeout) for \(what)" }
}

/// Polls `condition` every 2 ms until it holds. When `timeout` passes first it throws ``WaitTimedOut``, so a wait fails
/// the test instead of hanging it.
func eventually(_ what: String, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
    let start = ContinuousClock.now
    while try await !condition() {
        guard ContinuousClock.now - start < timeout else { throw WaitTimedOut(what: what, timeout: timeout) }
        try await Task.sleep(for: .milliseconds(2))
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateApp
import KeygateCore
import KeygateServer
import Logging
import Testing

/// The composition root (``KeygateSystem``) as the executable uses it: the router tests go through it (Harness), and
/// these run the whole application, services included, over a real socket.
@Suite("Composition root")
struct CompositionRootTests {
    static func databasePath() -> (URL, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keygate-live-\(UUID().uuidString)")
        return (directory, directory.appendingPathComponent("k.sqlite").path)
    }

    @Test("the application the server runs answers over a live socket: health, login, the key, logout")
    func live() async throws {
        let (directory, path) = Self.databasePath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = TestClock()
        try await KeygateSystem.with(.testing(database: path, clock: clock), logger: Logger(label: "test"), serving: true) { system in
            let org = try await system.keygate.organizations.provisionOrganization(
                system.keygate.commandLineProvider(operator: "test"), name: "Live", adminLogin: "live@root", password: Harness.password)
            let app = try system.application()
            try await app.test(.live) { client in
                let health = try await client.send(.get, "/health")
                #expect(health.status == .ok && health.object["database"] as? String == "ok")
                let ms = Int64(clock.now.timeIntervalSince1970 * 1000)
                let body: [String: Any] = [
                    "apiKey": KeyObfuscation.obfuscate(org.key.value, timestamp: String(ms))!, "username": "live@root",
                    "password": Harness.password, "timestamp": ms,
                ]
                let login = try await client.send(.post, "/api/v1/auth", json: body)
                #expect(login.status == .ok)
                let cookie = try #require(login.headers[.setCookie])
                let session = String(cookie.split(separator: ";")[0].dropFirst("JSESSIONID=".count))
                let keys = try await client.send(.get, "/api/v1/apiKeys", session: session)
                #expect(keys.status == .ok && keys.array.first?["keyValue"] as? String == org.key.value.rawValue)
                #expect(keys.headers[.cacheControl] == "no-store")
                #expect(try await client.send(.delete, "/api/v1/auth", session: session).status == .noContent)
                #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .unauthorized)
            }
        }
    }

    @Test("a master key that does not open the stored keys stops the system from opening")
    func wrongMasterKey() async throws {
        let (directory, path) = Self.databasePath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = TestClock()
        try await KeygateSystem.with(.testing(database: path, clock: clock), logger: Logger(label: "test"), serving: false) { first in
            _ = try await first.keygate.organizations.provisionOrganization(
                first.keygate.commandLineProvider(operator: "t"), name: "Sealed", adminLogin: "sealed@root", password: Harness.password)
        }
        var other = KeygateConfiguration.testing(database: path, clock: clock)
        other.masterKey = Array(repeating: 9, count: 32)
        await #expect(throws: KeygateError.self) {
            try await KeygateSystem.with(other, logger: Logger(label: "test"), serving: false) { _ in Issue.record("it opened") }
        }
    }
}

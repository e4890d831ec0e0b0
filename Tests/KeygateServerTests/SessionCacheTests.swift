import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateApp
import KeygateCore
import KeygateStorage
import Logging
import Testing

/// The session cache seen through the API: it serves session checks from memory, and never answers differently
/// from the database except, for a change made by another process, until that change's announcement arrives.
@Suite("Session cache over HTTP")
struct SessionCacheHTTPTests {
    @Test("session checks are served from memory, and a change made by this process is in force at the very next request")
    func localChange() async throws {
        try await withServer { harness, client in
            let bystander = try await client.login(harness)
            let editor = try await client.login(harness)
            let before = harness.cache.counts.hits
            for _ in 0..<3 { #expect(try await client.send(.get, "/api/v1/apiKeys", session: bystander).status == .ok) }
            #expect(harness.cache.counts.hits >= before + 2, "the second and third checks come from memory")
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: editor).status == .ok)

            let id = harness.org.key.id
            let edited = try await client.send(.put, "/api/v1/apiKeys/\(id)", session: editor, json: ["keyValue": "Cached0Gone1"])
            #expect(edited.status == .ok)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: bystander).status == .unauthorized)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: editor).array.first?["keyValue"] as? String == "Cached0Gone1")
        }
    }

    @Test("a change made by another process (the CLI) reaches the cache through the change log, within its poll interval")
    func otherProcessChange() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness)
            for _ in 0..<2 { #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .ok) }
            let hits = harness.cache.counts.hits
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .ok)
            #expect(harness.cache.counts.hits == hits + 1, "the session is being served from memory")

            try await KeygateStorage.Storage.withDatabase(url: harness.path, logger: .init(label: "cli")) { _, cliStore in
                let cli = Keygate(
                    store: cliStore, cipher: harness.keygate.cipher, hasher: harness.keygate.environment.hasher,
                    decoys: harness.keygate.environment.decoys)
                _ = try await cli.keys.setKeyEnabled(cli.commandLineProvider(operator: "cli"), orgID: harness.orgID, enabled: false)
                let changed = ContinuousClock.now
                // The test clock stands still, so the cache's maxAge backstop cannot be what ends this session: only the
                // watcher's poll can. The deadline is generous for a loaded CI machine; the bound is the poll interval,
                // and scripts/bench/run measures it.
                var status = try await client.send(.get, "/api/v1/apiKeys", session: session).status
                while status == .ok, ContinuousClock.now - changed < .seconds(5) {
                    try await Task.sleep(for: .milliseconds(2))
                    status = try await client.send(.get, "/api/v1/apiKeys", session: session).status
                }
                #expect(status == .unauthorized)
                #expect(ContinuousClock.now - changed < .seconds(5))
            }
        }
    }

    @Test("the cache never refuses a session the database accepts: a refusal from memory is checked again")
    func refusalsAreConfirmed() async throws {
        try await withServer(cacheMaxAge: 7200) { harness, client in
            let session = try await client.login(harness)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .ok)
            // Another instance serves the session 25 minutes later (a touch announces nothing), so this instance's
            // copy still has the old last-seen time and, 31 minutes on, believes the session idle past 30 minutes.
            let hash = Secrets.sha256Hex(session)
            try await harness.store.touchSession(tokenHash: hash, at: harness.clock.now.addingTimeInterval(25 * 60))
            harness.clock.advance(31 * 60)
            let cached = try #require(harness.cache.snapshot(tokenHash: hash, now: harness.clock.now))
            #expect(harness.clock.now.timeIntervalSince(cached.session.lastSeenAt) > 30 * 60, "the cached copy believes it idle")
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .ok)
        }
    }

    @Test("while change announcements may be missed the cache serves nothing, and health says so")
    func suspendedWhileLost() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness)
            #expect(try await client.send(.get, "/health").object["sessionCache"] as? String == "live")
            harness.cache.suspend()
            #expect(try await client.send(.get, "/health").object["sessionCache"] as? String == "suspended")
            let hits = harness.cache.counts.hits
            for _ in 0..<3 { #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .ok) }
            #expect(harness.cache.counts.hits == hits, "every check went to the database")
            harness.cache.resume()
            for _ in 0..<2 { #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .ok) }
            #expect(harness.cache.counts.hits == hits + 1)
        }
    }

    @Test(
        "a change in one organization ends its cached sessions at the next request on every instance and leaves another organization's warm"
    )
    func targetedAcrossInstances() async throws {
        try await withServer { harness, a in
            let bravo = try await harness.keygate.organizations.provisionOrganization(
                harness.keygate.commandLineProvider(operator: "test"), name: "Bravo", adminLogin: "bravo", password: Harness.password)
            let acmeSession = try await a.login(harness)
            let editor = try await a.login(harness)
            let bravoSession = try await a.login(harness, user: "bravo", key: bravo.key.value.rawValue)

            // Instance B: a second server on the same database, with its own cache and watcher.
            try await KeygateSystem.with(.testing(database: harness.path, clock: harness.clock), logger: .init(label: "b"), serving: true) {
                systemB in
                try await withThrowingTaskGroup(of: Void.self) { watchers in
                    watchers.addTask { try await ChangeWatcher(db: systemB.database, logger: .init(label: "b")).run() }
                    defer { watchers.cancelAll() }
                    let cacheB = try #require(systemB.keygate.sessionCache)
                    try await eventually("instance B's cache serves") { cacheB.isLive }
                    try await Application(router: systemB.router()).test(.router) { b in
                        for client in [a, b] {
                            for session in [acmeSession, bravoSession] {
                                for _ in 0..<2 { #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .ok) }
                            }
                        }
                        let hitsA = harness.cache.counts.hits
                        let hitsB = cacheB.counts.hits

                        // Acme's key is edited on A.
                        let edited = try await a.send(
                            .put, "/api/v1/apiKeys/\(harness.org.key.id)", session: editor, json: ["keyValue": "Targeted0Go1"])
                        #expect(edited.status == .ok)
                        // A: Acme's session ends at the very next request; Bravo's is still answered from memory.
                        #expect(try await a.send(.get, "/api/v1/apiKeys", session: acmeSession).status == .unauthorized)
                        #expect(try await a.send(.get, "/api/v1/apiKeys", session: bravoSession).status == .ok)
                        #expect(harness.cache.counts.hits == hitsA + 1, "Bravo's session stayed warm on A")

                        // B: Acme's session ends once the change log is read (the test clock stands still, so the cache's
                        // age backstop cannot be what ends it); Bravo's stays warm throughout.
                        try await eventually("B refuses Acme's old session", timeout: .seconds(5)) {
                            try await b.send(.get, "/api/v1/apiKeys", session: acmeSession).status != .ok
                        }
                        let hitsBeforeBravo = cacheB.counts.hits
                        let misses = cacheB.counts.misses
                        #expect(try await b.send(.get, "/api/v1/apiKeys", session: bravoSession).status == .ok)
                        #expect(cacheB.counts.hits == hitsBeforeBravo + 1 && cacheB.counts.misses == misses, "Bravo's session stayed warm on B")
                        #expect(cacheB.counts.hits > hitsB)
                    }
                }
            }
        }
    }

    @Test("logins and logouts do not cool other sessions: a new session invalidates nothing, a logout only itself")
    func churnKeepsOthersWarm() async throws {
        try await withServer { harness, client in
            let steady = try await client.login(harness)
            for _ in 0..<2 { #expect(try await client.send(.get, "/api/v1/apiKeys", session: steady).status == .ok) }
            let invalidated = harness.cache.counts.invalidated
            for _ in 0..<5 {
                let churn = try await client.login(harness)
                #expect(try await client.send(.get, "/api/v1/apiKeys", session: churn).status == .ok)
                #expect(try await client.send(.delete, "/api/v1/auth", session: churn).status == .noContent)
                #expect(try await client.send(.get, "/api/v1/apiKeys", session: churn).status == .unauthorized)
            }
            let misses = harness.cache.counts.misses
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: steady).status == .ok)
            #expect(harness.cache.counts.misses == misses, "the steady session is still answered from memory")
            #expect(harness.cache.counts.invalidated == invalidated + 5, "each logout removed exactly its own session")
        }
    }
}

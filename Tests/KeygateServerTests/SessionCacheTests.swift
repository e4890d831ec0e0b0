import Foundation
import HTTPTypes
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

    @Test("a change made by another process (the CLI) clears the cache through the change counter, within its poll interval")
    func otherProcessChange() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness)
            for _ in 0..<2 { #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .ok) }
            let hits = harness.cache.counts.hits
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .ok)
            #expect(harness.cache.counts.hits == hits + 1, "the session is being served from memory")

            let (cliDB, cliStore) = try await KeygateStorage.Storage.open(url: harness.path, logger: .init(label: "cli"))
            let cli = Keygate(store: cliStore, cipher: harness.keygate.cipher, hasher: harness.keygate.hasher, dummyPasswordHash: "x")
            _ = try await cli.providerSetKeyEnabled(orgID: harness.orgID, enabled: false, operator: "cli")
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
            try await cliDB.shutdown()
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
}

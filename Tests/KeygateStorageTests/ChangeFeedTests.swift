import Foundation
import KeygateCore
import Logging
import SQLKit
import Synchronization
import Testing

@testable import KeygateStorage

/// Records a feed's events.
final class EventLog: Sendable {
    private let events = Mutex<[ChangeFeed.Event]>([])

    init(_ feed: ChangeFeed) { feed.subscribe { event in self.events.withLock { $0.append(event) } } }

    var all: [ChangeFeed.Event] { events.withLock { $0 } }
    func count(_ event: ChangeFeed.Event) -> Int { all.filter { $0 == event }.count }
    func clear() { events.withLock { $0.removeAll() } }
    /// The scopes of the changes seen, in order.
    var changes: [ChangeScope] {
        all.compactMap { event in
            if case .changed(let scope) = event { return scope }
            return nil
        }
    }

    /// Waits (up to `timeout`) until at least `count` changes have been seen.
    func waitForChanges(_ count: Int = 1, timeout: Duration = .seconds(5)) async throws -> Bool {
        let start = ContinuousClock.now
        while changes.count < count {
            guard ContinuousClock.now - start < timeout else { return false }
            try await Task.sleep(for: .milliseconds(2))
        }
        return true
    }

    /// Waits (up to `timeout`) until `event` has been seen `count` times.
    func wait(for event: ChangeFeed.Event, count: Int = 1, timeout: Duration = .seconds(5)) async throws -> Bool {
        let start = ContinuousClock.now
        while self.count(event) < count {
            guard ContinuousClock.now - start < timeout else { return false }
            try await Task.sleep(for: .milliseconds(2))
        }
        return true
    }
}

/// Runs `db`'s change watcher for the duration of `body`.
func withWatcher(_ db: any DatabaseHandle, retry: Duration = .milliseconds(50), _ body: () async throws -> Void) async throws {
    let watcher = Task { try await ChangeWatcher(db: db, retryInterval: retry, logger: Logger.quiet("watcher")).run() }
    defer { watcher.cancel() }
    try await body()
    watcher.cancel()
    _ = await watcher.result
}

/// Two processes' views of one new database (a server and a CLI), closed and removed after `body` whatever happens.
func withTwoProcesses(
    _ backend: Backend,
    _ body: (_ server: any DatabaseHandle, _ serverStore: SQLKeygateStore, _ cli: any DatabaseHandle, _ cliStore: SQLKeygateStore) async throws ->
        Void
) async throws {
    let (url, cleanup) = try await backend.create()
    do {
        try await Storage.withDatabase(url: url, logger: Logger.quiet("server")) { server, serverStore in
            try await Storage.withDatabase(url: url, logger: Logger.quiet("cli")) { cli, cliStore in
                try await body(server, serverStore, cli, cliStore)
            }
        }
    } catch {
        await cleanup()
        throw error
    }
    await cleanup()
}

@Suite("Change announcements")
struct ChangeFeedTests {
    static var sharedBackends: [Backend] { Backend.available.filter { $0 != .sqliteMemory } }

    @Test(
        "announcing writes reach this process at once and another process's watcher with their scope; logins, last-seen and counter writes announce nothing",
        arguments: sharedBackends)
    func announcements(_ backend: Backend) async throws {
        try await withTwoProcesses(backend) { server, serverStore, cli, cliStore in
            let heard = EventLog(server.changes)
            let local = EventLog(cli.changes)
            let org = try await provision(cliStore)
            try await withWatcher(server) {
                #expect(try await heard.wait(for: .listening))
                local.clear()

                // Not announced: a new session, a last-seen write and a counter write (no cache can hold the first;
                // the cache may miss the others safely).
                _ = try await cliStore.createSession(
                    session("s", org), replayDigest: "d", replayExpiresAt: t0.addingTimeInterval(60), audit: audit(org))
                try await cliStore.touchSession(tokenHash: "s", at: t0.addingTimeInterval(60))
                _ = try await SQLWindowCounters(db: cli).acquire([CounterBucket(key: "k", budget: 5, expiresAt: t0.addingTimeInterval(60))])
                #expect(local.changes.isEmpty)

                // Announced with its scope: a key change. This process hears it before the call returns; the
                // server, soon after.
                _ = try await cliStore.applyKeyChange(change(org, .setEnabled(false, expectedVersion: 1), .endAll))
                #expect(local.changes == [.organization(id: org.organization.id)])
                #expect(try await heard.waitForChanges())
                // Nothing else was announced: announcements arrive in commit order (the change log's sequence, or
                // PostgreSQL's NOTIFY order), so had the earlier writes announced anything it would be here already.
                #expect(heard.changes == [.organization(id: org.organization.id)])

                // A logout names its session; an admin change, its admin.
                _ = try await cliStore.deleteSession(tokenHash: "s", audit: nil)
                var admin = org.admin
                admin.disabled = true
                try await cliStore.updateAdmin(admin, endSessions: true, keepSession: nil, audit: audit(org))
                #expect(try await heard.waitForChanges(3))
                #expect(heard.changes == [.organization(id: org.organization.id), .session(tokenHash: "s"), .admin(id: admin.id)])

                _ = try await serverStore.deleteSession(tokenHash: "t", audit: nil)
                #expect(heard.changes.last == .session(tokenHash: "t"), "the server's own write is announced to itself at once")
            }
            #expect(heard.all.last == .lost, "a stopped watcher leaves the cache suspended")
        }
    }

    @Test(
        "PostgreSQL: when the LISTEN connection dies the watcher reports it lost, then listens again",
        .enabled(if: Backend.postgresURL != nil))
    func listenerLost() async throws {
        try await withStore(.postgres) { db, _ in
            let heard = EventLog(db.changes)
            try await withWatcher(db) {
                #expect(try await heard.wait(for: .listening))
                let killed = try await db.read { sql in
                    try await sql.raw(
                        """
                        SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
                        WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()
                        """
                    ).all().count
                }
                #expect(killed == 1)
                #expect(try await heard.wait(for: .lost))
                #expect(try await heard.wait(for: .listening, count: 2))
                // And it hears another process's announcements again.
                let before = heard.changes.count
                try await Storage.withDatabase(url: try #require(Self.url(of: db)), logger: Logger.quiet("other")) { other, _ in
                    try await other.transaction(announcing: .everything) { _ in }
                }
                #expect(try await heard.waitForChanges(before + 1))
            }
        }
    }

    @Test(
        "PostgreSQL with changeNotify=off: writes send no NOTIFY and the watcher never makes a cache live",
        .enabled(if: Backend.postgresURL != nil))
    func notifyOff() async throws {
        try await withStore(.postgres) { db, _ in
            let heard = EventLog(db.changes)
            let url = try #require(try await Self.url(of: db))
            try await Storage.withDatabase(url: url + "&changeNotify=off", logger: Logger.quiet("quiet")) { quiet, _ in
                #expect(!quiet.announcesChanges)
                let cache = SessionCache()
                quiet.changes.drive(cache)
                try await withWatcher(db) {
                    #expect(try await heard.wait(for: .listening))
                    try await withWatcher(quiet) {
                        try await quiet.transaction(announcing: .everything) { _ in }
                        // A fence: a third process announces after it. NOTIFYs arrive in commit order, so once the
                        // fence is heard, anything the quiet write had announced would have been heard before it.
                        try await Storage.withDatabase(url: url, logger: Logger.quiet("fence")) { fence, _ in
                            try await fence.transaction(announcing: .session(tokenHash: "fence")) { _ in }
                        }
                        #expect(try await heard.waitForChanges())
                        #expect(heard.changes == [.session(tokenHash: "fence")], "nothing was announced by the quiet process")
                        #expect(!cache.isLive, "without announcements the cache stays off")
                    }
                }
            }
            await #expect(throws: StorageError.self) {
                try await Storage.withDatabase(url: url + "&changeNotify=maybe", logger: Logger.quiet("t")) { _, _ in }
            }
        }
    }

    /// The URL of a test PostgreSQL database (its name, on the test server).
    static func url(of db: any DatabaseHandle) async throws -> String? {
        let name = try await db.read { sql in
            try await sql.raw("SELECT current_database() AS name").first()?.decode(column: "name", as: String.self)
        }
        guard let name, var components = Backend.postgresURL.flatMap(URLComponents.init(string:)) else { return nil }
        components.path = "/" + name
        return components.string
    }

    @Test("the feed drives a session cache: live on listening, cleared on a change, suspended when lost", arguments: Backend.available)
    func drivesCache(_ backend: Backend) async throws {
        try await withStore(backend) { db, _ in
            let cache = SessionCache()
            db.changes.drive(cache)
            let entry = SessionSnapshot(
                session: APISession(
                    tokenHash: "h", orgID: 1, adminID: 1, keyID: 1, keyVersion: 1, kind: .ztw, createdAt: t0, lastSeenAt: t0),
                admin: Admin(id: 1, orgID: 1, loginName: "a", userName: "a", email: "", roleID: 1, passwordHash: "x", createdAt: t0),
                role: Role(id: 1, orgID: 1, name: "r", featurePermissions: [:]), key: nil)
            db.changes.publish(.listening)
            #expect(cache.isLive)
            cache.insert(entry, generation: cache.generation, now: t0)
            #expect(cache.snapshot(tokenHash: "h", now: t0) != nil)
            try await db.transaction(announcing: .everything) { _ in }
            #expect(cache.snapshot(tokenHash: "h", now: t0) == nil, "an announcing transaction of this process clears it before returning")
            cache.insert(entry, generation: cache.generation, now: t0)
            db.changes.publish(.lost)
            #expect(!cache.isLive && cache.snapshot(tokenHash: "h", now: t0) == nil)
        }
    }
}

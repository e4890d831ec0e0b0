import Foundation
import Synchronization

/// An in-process cache of session snapshots, so that a session-checked request needs no database read.
///
/// **What it may and may not do.** The cache only ever answers "yes": a request it refuses (idle, ended, key
/// changed, role without access, …) is checked again against the database, so a cached entry can never refuse a
/// valid session. A cached "yes" can be stale only in the time between a change being committed by another
/// process and that process's announcement reaching this one; the bound is:
///
/// - **changes made by this process**: none. Every announcing transaction invalidates what it changed after
///   `COMMIT` and before the change is answered, and a snapshot read before an invalidation that affects it is
///   never stored after it (the ``generation`` guard).
/// - **changes made by another instance or the CLI**: the time their announcement takes to arrive (PostgreSQL
///   `NOTIFY`, or the SQLite change log's poll interval), measured by `scripts/bench/run`; and never more than
///   ``maxAge`` (2 s), the bound the README states.
/// - **if announcements stop arriving** (the watcher lost its connection): none, because the watcher
///   ``suspend()``s the cache until it listens again, and a suspended cache serves nothing.
/// - **as a backstop**: ``maxAge``, after which an entry is read again whatever happened.
///
/// The cache starts suspended; it serves only once the change watcher reports that it is listening.
///
/// **Targeted invalidation.** An announcement names what changed (``ChangeScope``): one session, one admin's
/// sessions, one organization's, or everything. Entries are indexed by organization and by admin, so an
/// invalidation costs what it removes, and a change in one organization leaves every other organization's
/// sessions warm. A login announces nothing (a new session is in no cache), so a fleet that logs in and out
/// all day costs the cache one removal per logout.
///
/// **The one "no" it keeps: tokens with no session row.** A session's token is random and its row is written once,
/// at login, before the client ever sees the token; an ended session's row is deleted and never written again. So a
/// token whose hash has no row will never have one, and remembering that needs no announcement, survives every
/// clear and is right on every instance. It matters for the Go SDK, whose cookie jar keeps sending the stale id
/// first after a re-login: without the memo, each of its requests would cost a database read for the dead id.
/// Bounded by ``maxEntries`` like the entries.
public final class SessionCache: Sendable {
    private struct Entry {
        var snapshot: SessionSnapshot
        var fetchedAt: Date
        /// ``SessionRules/principal(for:)`` of the snapshot, worked out when it was stored (nil: it refuses).
        var principal: Principal?
    }

    /// What a hit hands the session check: the session row (for the clock and the last-seen write), the key's version
    /// now, and the caller the snapshot makes, if it makes one.
    public struct Hit: Sendable {
        public let session: APISession
        public let currentKeyVersion: Int64?
        public let principal: Principal?
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var byOrganization: [Int64: Set<String>] = [:]
        var byAdmin: [Int64: Set<String>] = [:]
        /// Token hashes the database has no session for (see the type's documentation).
        var unknown: Set<String> = []
        /// Bumped by every invalidation, suspension and resumption.
        var generation: UInt64 = 0
        /// The latest invalidations with the generation each produced, oldest first and contiguous up to
        /// ``generation`` (suspension and resumption are recorded as ``ChangeScope/everything``).
        var recent: [(generation: UInt64, scope: ChangeScope)] = []
        var live = false
        var hits = 0
        var misses = 0
        var invalidated = 0

        /// Removes one entry and its index entries; `invalidating` counts it as an invalidation (not age or room).
        mutating func remove(_ tokenHash: String, invalidating: Bool = true) {
            guard let entry = entries.removeValue(forKey: tokenHash) else { return }
            if invalidating { invalidated += 1 }
            let session = entry.snapshot.session
            byOrganization[session.orgID]?.remove(tokenHash)
            if byOrganization[session.orgID]?.isEmpty == true { byOrganization[session.orgID] = nil }
            byAdmin[session.adminID]?.remove(tokenHash)
            if byAdmin[session.adminID]?.isEmpty == true { byAdmin[session.adminID] = nil }
        }

        mutating func record(_ scope: ChangeScope) {
            generation &+= 1
            recent.append((generation, scope))
            if recent.count > 2 * SessionCache.recentLimit { recent.removeFirst(recent.count - SessionCache.recentLimit) }
        }

        mutating func clear() {
            invalidated += entries.count
            entries.removeAll(keepingCapacity: true)
            byOrganization.removeAll(keepingCapacity: true)
            byAdmin.removeAll(keepingCapacity: true)
        }

        /// Whether a snapshot read when the generation was `since` may be stale: an invalidation since then
        /// affects it, or too many happened to tell.
        func invalidatedSince(_ since: UInt64, _ snapshot: SessionSnapshot) -> Bool {
            guard since != generation else { return false }
            guard let oldest = recent.first, oldest.generation <= since &+ 1 else { return true }
            for change in recent.reversed() {
                if change.generation <= since { break }
                if change.scope.affects(snapshot) { return true }
            }
            return false
        }
    }

    /// How many invalidations are remembered for the ``generation`` guard. A read that spans more than this many
    /// invalidations is not stored (it is read again next time).
    static let recentLimit = 256

    /// Entries older than this are read again (a backstop: announcements normally remove them much sooner).
    public let maxAge: TimeInterval
    /// At most this many sessions are cached (and as many unknown tokens remembered); when full, an arbitrary
    /// entry makes room.
    public let maxEntries: Int
    private let state = Mutex(State())

    /// The default ``maxEntries``: sessions cached per instance (about 2 KB each).
    public static let defaultMaxEntries = ConfigKeys.sessionCacheSize.defaultValue

    /// Creates a suspended cache.
    public init(maxAge: TimeInterval = 2, maxEntries: Int = SessionCache.defaultMaxEntries) {
        self.maxAge = maxAge
        self.maxEntries = max(1, maxEntries)
    }

    /// Whether `tokenHash` is known to have no session row (valid whether or not the cache is live).
    public func isUnknown(tokenHash: String) -> Bool { state.withLock { $0.unknown.contains(tokenHash) } }

    /// Records that the database has no session row for `tokenHash`.
    public func markUnknown(tokenHash: String) {
        state.withLock { state in
            if state.unknown.count >= maxEntries, let victim = state.unknown.first { state.unknown.remove(victim) }
            state.unknown.insert(tokenHash)
        }
    }

    /// The cached snapshot for `tokenHash`, if the cache is live and the entry is younger than ``maxAge``.
    public func snapshot(tokenHash: String, now: Date) -> SessionSnapshot? { entry(tokenHash: tokenHash, now: now)?.snapshot }

    /// The session check's lookup: like ``snapshot(tokenHash:now:)``, without copying the whole snapshot out.
    public func hit(tokenHash: String, now: Date) -> Hit? {
        guard let entry = entry(tokenHash: tokenHash, now: now) else { return nil }
        return Hit(session: entry.snapshot.session, currentKeyVersion: entry.snapshot.keyVersion, principal: entry.principal)
    }

    private func entry(tokenHash: String, now: Date) -> Entry? {
        state.withLock { state in
            guard state.live, let entry = state.entries[tokenHash] else {
                state.misses += 1
                return nil
            }
            let age = now.timeIntervalSince(entry.fetchedAt)
            guard age >= 0, age < maxAge else {
                state.remove(tokenHash, invalidating: false)
                state.misses += 1
                return nil
            }
            state.hits += 1
            return entry
        }
    }

    /// Take this before reading a snapshot from the database and hand it to ``insert(_:generation:now:)``.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Stores a snapshot read from the database, unless the cache was suspended, or an invalidation that affects
    /// the snapshot happened, since `generation` was taken (the read may predate the change).
    public func insert(_ snapshot: SessionSnapshot, generation: UInt64, now: Date) {
        state.withLock { state in
            guard state.live, !state.invalidatedSince(generation, snapshot) else { return }
            let hash = snapshot.session.tokenHash
            if state.entries.count >= maxEntries, state.entries[hash] == nil, let victim = state.entries.keys.first {
                state.remove(victim, invalidating: false)
            }
            state.entries[hash] = Entry(snapshot: snapshot, fetchedAt: now, principal: try? SessionRules.principal(for: snapshot))
            state.byOrganization[snapshot.session.orgID, default: []].insert(hash)
            state.byAdmin[snapshot.session.adminID, default: []].insert(hash)
        }
    }

    /// Records that the session's last-seen time was written, so the cached copy does not ask for the write again.
    public func touched(tokenHash: String, at: Date) {
        state.withLock { state in state.entries[tokenHash]?.snapshot.session.lastSeenAt = at }
    }

    /// Forgets what `scope` names: the database changed there.
    public func invalidate(_ scope: ChangeScope) {
        state.withLock { state in
            switch scope {
            case .nothing: return
            case .session(let hash): state.remove(hash)
            case .admin(let id): for hash in state.byAdmin[id] ?? [] { state.remove(hash) }
            case .organization(let id): for hash in state.byOrganization[id] ?? [] { state.remove(hash) }
            case .everything: state.clear()
            }
            state.record(scope)
        }
    }

    /// Stops serving (and forgets everything) until ``resume()``: announcements may be missed meanwhile.
    public func suspend() {
        state.withLock { state in
            state.clear()
            state.record(.everything)
            state.live = false
        }
    }

    /// Starts serving again, from empty: called once announcements are being received.
    public func resume() {
        state.withLock { state in
            state.clear()
            state.record(.everything)
            state.live = true
        }
    }

    /// Whether the cache is serving.
    public var isLive: Bool { state.withLock { $0.live } }

    /// How many sessions are cached now.
    public var count: Int { state.withLock { $0.entries.count } }

    /// Lookups answered from memory and lookups that went to the database, since start; and entries removed by
    /// invalidations (not by age or capacity).
    public var counts: (hits: Int, misses: Int, invalidated: Int) {
        state.withLock { ($0.hits, $0.misses, $0.invalidated) }
    }
}

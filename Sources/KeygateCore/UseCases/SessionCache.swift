import Foundation
import Synchronization

/// An in-process cache of session snapshots, so that a session-checked request needs no database read.
///
/// **What it may and may not do.** The cache only ever answers "yes": a request it refuses (idle, ended, key
/// changed, role without access, …) is checked again against the database, so a cached entry can never refuse a
/// valid session. A cached "yes" can be stale only in the time between a change being committed by another
/// process and that process's announcement reaching this one; the bound is:
///
/// - **changes made by this process**: none. Every announcing transaction clears the cache after `COMMIT` and
///   before the change is answered, and a snapshot read before a clear is never stored after it (the
///   ``generation`` guard).
/// - **changes made by another instance or the CLI**: the time their announcement takes to arrive (PostgreSQL
///   `NOTIFY`, or the SQLite change counter's poll interval), measured by `scripts/bench/run`.
/// - **if announcements stop arriving** (the watcher lost its connection): none, because the watcher
///   ``suspend()``s the cache until it listens again, and a suspended cache serves nothing.
/// - **as a backstop**: ``maxAge``, after which an entry is read again whatever happened.
///
/// The cache starts suspended; it serves only once the change watcher reports that it is listening.
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
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Token hashes the database has no session for (see the type's documentation).
        var unknown: Set<String> = []
        var generation: UInt64 = 0
        var live = false
        var hits = 0
        var misses = 0
    }

    /// Entries older than this are read again (a backstop: announcements normally clear them much sooner).
    public let maxAge: TimeInterval
    /// At most this many sessions are cached; when full, an arbitrary entry makes room.
    public let maxEntries: Int
    private let state = Mutex(State())

    /// Creates a suspended cache.
    public init(maxAge: TimeInterval = 2, maxEntries: Int = 10_000) {
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
    public func snapshot(tokenHash: String, now: Date) -> SessionSnapshot? {
        state.withLock { state in
            guard state.live, let entry = state.entries[tokenHash] else {
                state.misses += 1
                return nil
            }
            let age = now.timeIntervalSince(entry.fetchedAt)
            guard age >= 0, age < maxAge else {
                state.entries[tokenHash] = nil
                state.misses += 1
                return nil
            }
            state.hits += 1
            return entry.snapshot
        }
    }

    /// Take this before reading a snapshot from the database and hand it to ``insert(_:generation:now:)``.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Stores a snapshot read from the database, unless the cache was cleared or suspended since `generation`
    /// was taken (the read may predate the change that cleared it).
    public func insert(_ snapshot: SessionSnapshot, generation: UInt64, now: Date) {
        state.withLock { state in
            guard state.live, state.generation == generation else { return }
            if state.entries.count >= maxEntries, state.entries[snapshot.session.tokenHash] == nil,
                let victim = state.entries.keys.first
            {
                state.entries[victim] = nil
            }
            state.entries[snapshot.session.tokenHash] = Entry(snapshot: snapshot, fetchedAt: now)
        }
    }

    /// Records that the session's last-seen time was written, so the cached copy does not ask for the write again.
    public func touched(tokenHash: String, at: Date) {
        state.withLock { state in state.entries[tokenHash]?.snapshot.session.lastSeenAt = at }
    }

    /// Forgets everything: the database changed.
    public func invalidateAll() {
        state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll(keepingCapacity: true)
        }
    }

    /// Stops serving (and forgets everything) until ``resume()``: announcements may be missed meanwhile.
    public func suspend() {
        state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll()
            state.live = false
        }
    }

    /// Starts serving again, from empty: called once announcements are being received.
    public func resume() {
        state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll()
            state.live = true
        }
    }

    /// Whether the cache is serving.
    public var isLive: Bool { state.withLock { $0.live } }

    /// Lookups answered from memory and lookups that went to the database, since start.
    public var counts: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }
}

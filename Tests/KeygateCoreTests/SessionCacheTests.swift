import Foundation
import Testing

@testable import KeygateCore

@Suite("Session cache")
struct SessionCacheTests {
    let t0 = Fixture.t0

    func snapshot(_ hash: String, org: Int64 = 1, admin: Int64 = 3) -> SessionSnapshot {
        var snapshot = Fixture.snapshot()
        snapshot.session.tokenHash = hash
        snapshot.session.orgID = org
        snapshot.session.adminID = admin
        return snapshot
    }

    func cached(_ cache: SessionCache, _ hashes: [String]) -> [String] {
        hashes.filter { cache.snapshot(tokenHash: $0, now: t0) != nil }
    }

    @Test("a new cache is suspended: it stores and serves nothing until resumed")
    func startsSuspended() {
        let cache = SessionCache()
        #expect(!cache.isLive)
        cache.insert(snapshot("a"), generation: cache.generation, now: t0)
        #expect(cache.snapshot(tokenHash: "a", now: t0) == nil)
        cache.resume()
        cache.insert(snapshot("a"), generation: cache.generation, now: t0)
        #expect(cache.snapshot(tokenHash: "a", now: t0) == snapshot("a"))
        #expect(cache.counts.hits == 1 && cache.counts.misses == 1)
    }

    @Test("tokens with no session row are remembered through clears and suspension, within the bound")
    func unknownTokens() {
        let cache = SessionCache(maxEntries: 2)
        cache.markUnknown(tokenHash: "dead")
        cache.invalidate(.everything)
        cache.suspend()
        #expect(cache.isUnknown(tokenHash: "dead"), "no row now means no row ever: no announcement can change it")
        #expect(!cache.isUnknown(tokenHash: "other"))
        cache.markUnknown(tokenHash: "b")
        cache.markUnknown(tokenHash: "c")
        #expect(["dead", "b", "c"].filter { cache.isUnknown(tokenHash: $0) }.count == 2)
    }

    @Test("a snapshot read before a change is not stored after it (the generation guard)")
    func generationGuard() {
        let cache = SessionCache()
        cache.resume()
        let before = cache.generation
        // The read is in flight when another transaction commits and clears the cache...
        cache.invalidate(.everything)
        // ...so what it read may be stale, and is dropped.
        cache.insert(snapshot("a"), generation: before, now: t0)
        #expect(cache.snapshot(tokenHash: "a", now: t0) == nil)
        // A suspend and a resume in between are changes too.
        let again = cache.generation
        cache.suspend()
        cache.resume()
        cache.insert(snapshot("a"), generation: again, now: t0)
        #expect(cache.snapshot(tokenHash: "a", now: t0) == nil)
    }

    @Test("invalidating forgets every entry; suspending also stops serving until resumed")
    func invalidateAndSuspend() {
        let cache = SessionCache()
        cache.resume()
        for hash in ["a", "b"] { cache.insert(snapshot(hash), generation: cache.generation, now: t0) }
        cache.invalidate(.everything)
        #expect(cache.snapshot(tokenHash: "a", now: t0) == nil && cache.snapshot(tokenHash: "b", now: t0) == nil)
        cache.insert(snapshot("a"), generation: cache.generation, now: t0)
        cache.suspend()
        #expect(!cache.isLive)
        #expect(cache.snapshot(tokenHash: "a", now: t0) == nil)
        cache.resume()
        #expect(cache.snapshot(tokenHash: "a", now: t0) == nil, "resume starts from empty")
    }

    @Test("entries older than maxAge, or from a clock that went backwards, are read again")
    func maxAge() {
        let cache = SessionCache(maxAge: 2)
        cache.resume()
        cache.insert(snapshot("a"), generation: cache.generation, now: t0)
        #expect(cache.snapshot(tokenHash: "a", now: t0.addingTimeInterval(1.9)) != nil)
        #expect(cache.snapshot(tokenHash: "a", now: t0.addingTimeInterval(2)) == nil)
        cache.insert(snapshot("b"), generation: cache.generation, now: t0)
        #expect(cache.snapshot(tokenHash: "b", now: t0.addingTimeInterval(-1)) == nil)
    }

    @Test("it holds at most maxEntries sessions; a touch updates the cached last-seen time")
    func capacityAndTouch() {
        let cache = SessionCache(maxEntries: 3)
        cache.resume()
        for i in 0..<10 { cache.insert(snapshot("s\(i)"), generation: cache.generation, now: t0) }
        let held = (0..<10).filter { cache.snapshot(tokenHash: "s\($0)", now: t0) != nil }
        #expect(held.count == 3 && held.contains(9))
        cache.touched(tokenHash: "s9", at: t0.addingTimeInterval(60))
        #expect(cache.snapshot(tokenHash: "s9", now: t0)?.session.lastSeenAt == t0.addingTimeInterval(60))
    }

    @Test("an invalidation removes only what its scope names: one session, one admin's, one organization's, or all")
    func targeted() {
        let cache = SessionCache()
        cache.resume()
        // Organization 1: admins 10 (sessions a, b) and 11 (c). Organization 2: admin 20 (d).
        let all = ["a", "b", "c", "d"]
        for (hash, org, admin) in [("a", 1, 10), ("b", 1, 10), ("c", 1, 11), ("d", 2, 20)] as [(String, Int64, Int64)] {
            cache.insert(snapshot(hash, org: org, admin: admin), generation: cache.generation, now: t0)
        }
        cache.invalidate(.nothing)
        #expect(cached(cache, all) == all)
        cache.invalidate(.session(tokenHash: "a"))
        #expect(cached(cache, all) == ["b", "c", "d"])
        cache.invalidate(.admin(id: 10))
        #expect(cached(cache, all) == ["c", "d"])
        cache.invalidate(.organization(id: 1))
        #expect(cached(cache, all) == ["d"], "another organization's session stays warm")
        #expect(cache.counts.invalidated == 3)
        cache.invalidate(.organization(id: 99))
        #expect(cached(cache, all) == ["d"])
        cache.invalidate(.everything)
        #expect(cached(cache, all).isEmpty)
        #expect(cache.count == 0)
    }

    @Test("the generation guard drops a read only when a change since then affects it")
    func targetedGuard() {
        let cache = SessionCache()
        cache.resume()
        let before = cache.generation
        cache.invalidate(.organization(id: 2))
        cache.invalidate(.admin(id: 99))
        cache.invalidate(.session(tokenHash: "zz"))
        cache.insert(snapshot("a", org: 1, admin: 10), generation: before, now: t0)
        #expect(cached(cache, ["a"]) == ["a"], "changes elsewhere do not make this read stale")
        for scope: ChangeScope in [.organization(id: 1), .admin(id: 10), .session(tokenHash: "b"), .everything] {
            let start = cache.generation
            cache.invalidate(scope)
            cache.insert(snapshot("b", org: 1, admin: 10), generation: start, now: t0)
            #expect(cached(cache, ["b"]).isEmpty, "a read that may predate \(scope) is not stored")
        }
        // A read that spans more invalidations than the cache remembers is not stored either.
        let old = cache.generation
        for i in 0..<(SessionCache.recentLimit * 2 + 1) { cache.invalidate(.organization(id: Int64(1000 + i))) }
        cache.insert(snapshot("c", org: 1, admin: 10), generation: old, now: t0)
        #expect(cached(cache, ["c"]).isEmpty)
        cache.insert(snapshot("c", org: 1, admin: 10), generation: cache.generation, now: t0)
        #expect(cached(cache, ["c"]) == ["c"])
    }

    @Test("scopes travel between processes as text, and anything unrecognised means everything")
    func wire() {
        for scope: ChangeScope in [.session(tokenHash: "ab12"), .admin(id: 7), .organization(id: 9_000_000_000), .everything] {
            #expect(ChangeScope(wire: scope.wire[...]) == scope)
        }
        for damaged in ["", "o:", "o:x", "a:-", "s:", "q:1", "organization"] {
            #expect(ChangeScope(wire: damaged[...]) == .everything, "\(damaged)")
        }
    }
}

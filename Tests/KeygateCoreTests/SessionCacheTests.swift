import Foundation
import Testing

@testable import KeygateCore

@Suite("Session cache")
struct SessionCacheTests {
    let t0 = Fixture.t0

    func snapshot(_ hash: String) -> SessionSnapshot {
        var snapshot = Fixture.snapshot()
        snapshot.session.tokenHash = hash
        return snapshot
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
        cache.invalidateAll()
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
        cache.invalidateAll()
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
        cache.invalidateAll()
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
}

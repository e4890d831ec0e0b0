import Foundation
import Testing

@testable import KeygateCore

/// Builders for domain values in tests.
enum Fixture {
    static let t0 = Date(timeIntervalSince1970: 1_795_749_071)

    static func admin(disabled: Bool = false) -> Admin {
        Admin(id: 3, orgID: 1, loginName: "ann", userName: "Ann", email: "", roleID: 2, passwordHash: "x", disabled: disabled, createdAt: t0)
    }

    static func role(_ access: FeatureAccess) -> Role {
        Role(id: 2, orgID: 1, name: "r", featurePermissions: [Role.apiKeyManagement: access])
    }

    static func key(version: Int64 = 1, enabled: Bool = true, value: String = "AbC123dEf456") throws -> APIKey {
        APIKey(
            id: 5, orgID: 1, value: try APIKeyValue(validating: value), version: version, enabled: enabled,
            lastModifiedBy: .provider(name: "p"), lastModifiedAt: t0, lastUsedAt: nil)
    }

    static func snapshot(
        kind: SessionKind = .ztw, lastSeen: Date = t0, sessionVersion: Int64 = 1, keyVersion: Int64? = 1, keyID: Int64? = 5,
        keyEnabled: Bool = true, adminDisabled: Bool = false, access: FeatureAccess = .readWrite, graceUntil: Date? = nil
    ) -> SessionSnapshot {
        SessionSnapshot(
            session: APISession(
                tokenHash: "h", orgID: 1, adminID: 3, keyID: 5, keyVersion: sessionVersion, kind: kind, createdAt: t0,
                lastSeenAt: lastSeen, graceUntil: graceUntil),
            admin: admin(disabled: adminDisabled), role: role(access),
            key: keyID.map { id in
                SealedAPIKey(
                    id: id, orgID: 1, value: "v1:sealed", version: keyVersion ?? 1, enabled: keyEnabled, lastModifiedBy: .provider(name: "p"),
                    lastModifiedAt: t0, lastUsedAt: nil)
            })
    }
}

@Suite("Session rules")
struct SessionRulesTests {
    let settings = SessionSettings()

    @Test("a fresh session of a current, enabled key passes")
    func valid() throws {
        let principal = try SessionRules.validate(Fixture.snapshot(), now: Fixture.t0.addingTimeInterval(10), settings: settings)
        #expect(principal.admin.id == 3)
        #expect(principal.orgID == 1)
    }

    @Test("idle timeouts: 30 minutes ZTW, 5 minutes ZIA")
    func idle() throws {
        let ztw = Fixture.snapshot(kind: .ztw)
        #expect(throws: Never.self) { try SessionRules.validate(ztw, now: Fixture.t0.addingTimeInterval(1799), settings: settings) }
        #expect(throws: KeygateError.sessionNotValid) { try SessionRules.validate(ztw, now: Fixture.t0.addingTimeInterval(1800), settings: settings) }
        let zia = Fixture.snapshot(kind: .zia)
        #expect(throws: Never.self) { try SessionRules.validate(zia, now: Fixture.t0.addingTimeInterval(299), settings: settings) }
        #expect(throws: KeygateError.sessionNotValid) { try SessionRules.validate(zia, now: Fixture.t0.addingTimeInterval(300), settings: settings) }
    }

    @Test("disabled admin, deleted, disabled, replaced or rotated key end the session")
    func ended() {
        let now = Fixture.t0.addingTimeInterval(1)
        for snapshot in [
            Fixture.snapshot(adminDisabled: true), Fixture.snapshot(keyVersion: nil, keyID: nil), Fixture.snapshot(keyEnabled: false),
            Fixture.snapshot(keyID: 6), Fixture.snapshot(sessionVersion: 1, keyVersion: 2),
        ] {
            #expect(throws: KeygateError.sessionNotValid) { try SessionRules.validate(snapshot, now: now, settings: settings) }
        }
    }

    @Test("a grace period keeps an old-version session until it ends")
    func grace() {
        let snapshot = Fixture.snapshot(sessionVersion: 1, keyVersion: 2, graceUntil: Fixture.t0.addingTimeInterval(60))
        #expect(throws: Never.self) { try SessionRules.validate(snapshot, now: Fixture.t0.addingTimeInterval(59), settings: settings) }
        #expect(throws: KeygateError.sessionNotValid) {
            try SessionRules.validate(snapshot, now: Fixture.t0.addingTimeInterval(60), settings: settings)
        }
    }

    @Test("a role reduced to NONE is refused with 403, not a dead session")
    func roleNone() {
        #expect(throws: KeygateError.forbidden("your role grants no access to API key management")) {
            try SessionRules.validate(Fixture.snapshot(access: .none), now: Fixture.t0, settings: settings)
        }
    }

    @Test("touch interval is a tenth of the idle timeout, at most a minute")
    func touch() {
        #expect(SessionRules.touchInterval(idle: 1800) == 60)
        #expect(SessionRules.touchInterval(idle: 300) == 30)
    }

    @Test("timestamp window, numeric strings only")
    func timestamps() {
        let now = Fixture.t0
        let ms = Int64(now.timeIntervalSince1970 * 1000)
        #expect(SessionRules.timestampIsFresh(String(ms), now: now, window: 7200))
        #expect(SessionRules.timestampIsFresh(String(ms - 7_199_000), now: now, window: 7200))
        #expect(!SessionRules.timestampIsFresh(String(ms - 7_201_000), now: now, window: 7200))
        #expect(!SessionRules.timestampIsFresh(String(ms + 7_201_000), now: now, window: 7200))
        #expect(!SessionRules.timestampIsFresh("abc", now: now, window: 7200))
        #expect(!SessionRules.timestampIsFresh("", now: now, window: 7200))
    }
}

@Suite("Key rules")
struct KeyRulesTests {
    @Test("add only when there is no key")
    func add() throws {
        try KeyRules.checkAdd(current: nil)
        #expect(throws: KeygateError.self) { try KeyRules.checkAdd(current: try Fixture.key()) }
    }

    @Test("admins change only their own, enabled key")
    func mayChange() throws {
        #expect(try KeyRules.checkAdminMayChange(current: try Fixture.key(), id: 5).id == 5)
        #expect(throws: KeygateError.notFound("API key 6 not found")) { try KeyRules.checkAdminMayChange(current: try Fixture.key(), id: 6) }
        #expect(throws: KeygateError.notFound("API key 5 not found")) { try KeyRules.checkAdminMayChange(current: nil, id: 5) }
        #expect(throws: KeygateError.keyDisabled) { try KeyRules.checkAdminMayChange(current: try Fixture.key(enabled: false), id: 5) }
    }

    @Test("edit needs a valid key different from the current one")
    func edit() throws {
        let current = try Fixture.key()
        #expect(try KeyRules.validateEdit(newValue: "ZZZZ9999aaaa", current: current).rawValue == "ZZZZ9999aaaa")
        #expect(throws: KeygateError.invalidInput("the new API key must differ from the current key")) {
            try KeyRules.validateEdit(newValue: "AbC123dEf456", current: current)
        }
        #expect(throws: KeygateError.self) { try KeyRules.validateEdit(newValue: "short", current: current) }
    }

    @Test("regeneration never returns the current key")
    func regenerate() throws {
        let current = try Fixture.key()
        for _ in 0..<100 { #expect(KeyRules.regenerated(current: current) != current.value) }
    }
}

@Suite("Roles and policies")
struct RoleTests {
    @Test(
        "feature names: the SDK's spellings meet",
        arguments: [
            ("APIKEY_MANAGEMENT", "APIKEY_MANAGEMENT"), ("apikeyManagement", "APIKEY_MANAGEMENT"), ("apikey_management", "APIKEY_MANAGEMENT"),
            ("ApiKeyManagement", "APIKEY_MANAGEMENT"), ("policyAccess", "POLICY_ACCESS"),
            ("EDGE_CONNECTOR_CLOUD_PROVISIONING", "EDGE_CONNECTOR_CLOUD_PROVISIONING"),
        ])
    func featureNames(_ input: String, _ canonical: String) {
        #expect(Role.canonicalFeatureName(input) == canonical)
    }

    @Test("access levels parse leniently and order")
    func access() {
        #expect(FeatureAccess(lenient: "read_only") == .readOnly)
        #expect(FeatureAccess(lenient: "Read-Write") == .readWrite)
        #expect(FeatureAccess(lenient: "full") == nil)
        #expect(FeatureAccess.readWrite.grants(.readOnly))
        #expect(!FeatureAccess.readOnly.grants(.readWrite))
        #expect(!FeatureAccess.none.grants(.readOnly))
    }

    @Test("rotation policies round-trip and refuse nonsense")
    func rotationPolicy() {
        for policy in [RotationPolicy.endOldSessions, .keepOldSessions, .grace(seconds: 300)] {
            #expect(RotationPolicy(storedValue: policy.storedValue) == policy)
        }
        for bad in ["", "grace:", "grace:0", "grace:-5", "grace:86401", "later"] { #expect(RotationPolicy(storedValue: bad) == nil) }
    }

    @Test("principals need the right access")
    func principal() {
        let p = Principal(tokenHash: "h", orgID: 1, admin: Fixture.admin(), role: Fixture.role(.readOnly), channel: .api(.ztw))
        #expect(throws: Never.self) { try p.require(.viewKey) }
        #expect(throws: KeygateError.self) { try p.require(.changeKey) }
    }
}

@Suite("Login throttle and window counters")
struct LoginThrottleTests {
    /// A time at the start of a minute, so 60-second windows line up with the test's arithmetic.
    let t = Date(timeIntervalSince1970: 1_795_749_060)

    @Test("locks a (login, address) pair after its failures until they slide out of the window; other addresses are not stopped")
    func perPair() async throws {
        let throttle = LoginThrottle(limits: .init(perPair: 3, perAddress: 100, perLoginName: 100, window: 60))
        for _ in 0..<3 { _ = try await throttle.reserve(loginName: "Ann", address: "1.1.1.1", now: t) }
        // 3 failures at t: at t+10 the next fits once they count for no more than 2, at t+80 (weight 2/3 in the next window).
        await #expect(throws: KeygateError.loginLocked(retryAfterSeconds: 70)) {
            _ = try await throttle.reserve(loginName: "ANN", address: "1.1.1.1", now: t.addingTimeInterval(10))
        }
        _ = try await throttle.reserve(loginName: "ann", address: "2.2.2.2", now: t.addingTimeInterval(10))
        // A fixed window would have let this one through: the failures are not yet a window old.
        await #expect(throws: KeygateError.self) {
            _ = try await throttle.reserve(loginName: "ann", address: "1.1.1.1", now: t.addingTimeInterval(60))
        }
        _ = try await throttle.reserve(loginName: "ann", address: "1.1.1.1", now: t.addingTimeInterval(80))
    }

    @Test("across a window boundary no more than the budget fits in any window's length (the fixed-window double spend)")
    func boundary() async throws {
        let throttle = LoginThrottle(limits: .init(perPair: 5, perAddress: 100, perLoginName: 100, window: 60))
        // 5 failures in the last second of one fixed window, then as many as fit in the first seconds of the next.
        for _ in 0..<5 { _ = try await throttle.reserve(loginName: "ann", address: "1.1.1.1", now: t.addingTimeInterval(59)) }
        var admitted = 0
        for second in 60..<119 {
            if (try? await throttle.reserve(loginName: "ann", address: "1.1.1.1", now: t.addingTimeInterval(Double(second)))) != nil { admitted += 1 }
        }
        // Fixed windows admitted 5 more at t+60 (10 in two seconds). Sliding: none until the first ones lose weight,
        // and over the 60 s after the burst at most the budget again as it decays.
        #expect(admitted <= 5, "admitted \(admitted) in the minute after a full burst")
        await #expect(throws: KeygateError.self) {
            _ = try await throttle.reserve(loginName: "ann", address: "1.1.1.1", now: t.addingTimeInterval(60))
        }
    }

    @Test("the sliding estimate and the wait until the next attempt fits")
    func slidingArithmetic() {
        let bucket = CounterBucket.sliding("x", length: 60, budget: 5, now: t.addingTimeInterval(15))
        #expect(bucket.key == "x|\(Int(t.timeIntervalSince1970))" && bucket.previousKey == "x|\(Int(t.timeIntervalSince1970) - 60)")
        #expect(bucket.previousWeight == 0.75)
        #expect(bucket.estimate(previous: 4, current: 1) == 4)  // 1 + floor(3.0)
        #expect(bucket.estimate(previous: 5, current: 2) == 5)  // 2 + floor(3.75)
        // Full: previous 5, current 2, budget 5: one more fits when 5 * w + 2 <= 4, i.e. w <= 0.4, at 36 s into the window.
        #expect(bucket.secondsUntilFree(previous: 5, current: 2) == 21)
        // The current window alone is full: into the next window until its 5 count for at most 4 (12 s in).
        #expect(bucket.secondsUntilFree(previous: 0, current: 5) == 45 + 12)
        let fixed = CounterBucket.window("x", length: 60, budget: 5, now: t.addingTimeInterval(15))
        #expect(fixed.previousKey == nil && fixed.estimate(previous: 9, current: 3) == 3 && fixed.secondsUntilFree(previous: 0, current: 5) == 45)
    }

    @Test("a success gives its reservation back, clears the pair and makes the address familiar")
    func successGivesBack() async throws {
        let throttle = LoginThrottle(limits: .init(perPair: 2, perAddress: 100, perLoginName: 100, window: 60))
        _ = try await throttle.reserve(loginName: "ann", address: "1.1.1.1", now: t)
        let ok = try await throttle.reserve(loginName: "ann", address: "1.1.1.1", now: t)
        try await throttle.succeeded(ok, now: t)
        let minute = Int(t.timeIntervalSince1970)
        let counts = try await throttle.counters.counts(["lf|p|ann|1.1.1.1|\(minute)", "lf|n|ann|\(minute)", "lk|ann|1.1.1.1"])
        #expect(counts["lf|p|ann|1.1.1.1|\(minute)"] == 0)
        #expect(counts["lf|n|ann|\(minute)"] == 1)
        #expect(counts["lk|ann|1.1.1.1"] == 1)
    }

    @Test("locks an address after its failures across names")
    func perAddress() async throws {
        let throttle = LoginThrottle(limits: .init(perPair: 100, perAddress: 4, perLoginName: 100, window: 60))
        for i in 0..<4 { _ = try await throttle.reserve(loginName: "user\(i)", address: "9.9.9.9", now: t) }
        await #expect(throws: KeygateError.self) { _ = try await throttle.reserve(loginName: "new", address: "9.9.9.9", now: t) }
        _ = try await throttle.reserve(loginName: "new", address: "8.8.8.8", now: t)
    }

    @Test("guesses from many addresses are bounded per login, but never stop the admin's familiar address")
    func strangersCannotLockOut() async throws {
        let throttle = LoginThrottle(limits: .init(perPair: 5, perAddress: 20, perLoginName: 10, window: 900))
        let home = try await throttle.reserve(loginName: "ann", address: "10.0.0.1", now: t)
        try await throttle.succeeded(home, now: t)
        var refused = 0
        for i in 0..<40 {
            do { _ = try await throttle.reserve(loginName: "ann", address: "203.0.113.\(i)", now: t) } catch KeygateError.loginLocked { refused += 1 }
        }
        #expect(refused == 30)
        _ = try await throttle.reserve(loginName: "ann", address: "10.0.0.1", now: t.addingTimeInterval(1))
        await #expect(throws: KeygateError.self) { _ = try await throttle.reserve(loginName: "ann", address: "198.51.100.1", now: t) }
    }

    @Test("simultaneous reservations never exceed the budget")
    func concurrentReservations() async throws {
        let throttle = LoginThrottle(limits: .init(perPair: 5, perAddress: 100, perLoginName: 100, window: 900))
        let granted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<25 { group.addTask { (try? await throttle.reserve(loginName: "ann", address: "1.1.1.1", now: t)) != nil } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(granted == 5)
    }

    @Test("acquire counts every bucket or none; a refused request costs nothing")
    func acquire() async throws {
        let counters = InMemoryWindowCounters()
        let second = CounterBucket.window("s", length: 1, budget: 2, now: t)
        let hour = CounterBucket.window("h", length: 3600, budget: 3, now: t)
        #expect(try await counters.acquire([second, hour]) == nil)
        #expect(try await counters.acquire([second, hour]) == nil)
        #expect(try await counters.acquire([second, hour]) == second)
        #expect(try await counters.counts([second.key, hour.key]) == [second.key: 2, hour.key: 2])
        let next = CounterBucket.window("s", length: 1, budget: 2, now: t.addingTimeInterval(1))
        #expect(next.key != second.key)
        #expect(try await counters.acquire([next, hour]) == nil)
        #expect(try await counters.acquire([next, hour]) == hour)
        try await counters.prune(now: t.addingTimeInterval(2))
        #expect(try await counters.counts([second.key, hour.key]) == [second.key: 0, hour.key: 3])
    }

    @Test("windows are aligned and expire at their end")
    func windows() {
        let bucket = CounterBucket.window("x", length: 60, budget: 1, now: t.addingTimeInterval(59))
        #expect(bucket.key == "x|\(Int(t.timeIntervalSince1970))")
        #expect(bucket.expiresAt == t.addingTimeInterval(60))
    }
}

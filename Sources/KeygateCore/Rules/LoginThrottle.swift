import Foundation

/// Limits password guesses: every attempt is reserved in the counters *before* the password is checked.
///
/// The problem it solves: checking a limit before bcrypt and recording the failure after it lets every request that
/// arrives inside one bcrypt's time through (25 simultaneous guesses against a limit of 5 all reached bcrypt). Here
/// an attempt first takes one unit of every budget it falls under with ``WindowCounters/acquire(_:)`` (atomic, in the
/// database, so it holds across instances); a success gives the unit back, a failure keeps it.
///
/// The budgets, per sliding window (the last 15 minutes by default, ``CounterBucket/sliding(_:length:budget:now:)``:
/// no more than the budget fits across a boundary of the underlying fixed windows), and why (anchor: Auth0 blocks the login *and address*
/// pair, not the login, so a stranger cannot lock a named admin out):
/// - **pair** (login name, client address): 5. The ordinary lockout; it only ever stops that address.
/// - **address**: 20, over all login names (one address spraying many names).
/// - **login name from unfamiliar addresses**: 20. Bounds the guesses against one login from many addresses. An
///   address where this login succeeded within ``Limits/familiarFor`` (30 days) is *familiar*: it is not counted
///   here and is never stopped by this budget, so an attacker elsewhere cannot lock the admin out of their usual
///   address; at worst they stop the login from new addresses for one window.
///
/// Counter keys: `lf|p|<login>|<address>`, `lf|a|<address>`, `lf|n|<login>`; familiar addresses `lk|<login>|<address>`.
/// Login names are lower-cased (and at most ``maxLoginNameLength`` characters reach here).
public struct LoginThrottle: Sendable {
    /// Limits.
    public struct Limits: Sendable {
        /// Failures per (login name, address) pair per window.
        public var perPair: Int
        /// Failures per client address per window, over all names.
        public var perAddress: Int
        /// Failures per login name per window from addresses where it has not recently succeeded.
        public var perLoginName: Int
        /// Window length in seconds.
        public var window: TimeInterval
        /// How long a successful login keeps its address familiar to that login.
        public var familiarFor: TimeInterval

        /// The defaults documented above.
        public init(
            perPair: Int = ConfigKeys.loginMaxFailuresPerPair.defaultValue,
            perAddress: Int = ConfigKeys.loginMaxFailuresPerAddress.defaultValue,
            perLoginName: Int = ConfigKeys.loginMaxFailuresPerName.defaultValue,
            window: TimeInterval = TimeInterval(ConfigKeys.loginLockoutSeconds.defaultValue),
            familiarFor: TimeInterval = TimeInterval(ConfigKeys.loginFamiliarDays.defaultValue * 86_400)
        ) {
            self.perPair = perPair
            self.perAddress = perAddress
            self.perLoginName = perLoginName
            self.window = window
            self.familiarFor = familiarFor
        }
    }

    /// An attempt's units, to give back when the password proves right.
    public struct Reservation: Sendable {
        let buckets: [CounterBucket]
        let familiarKey: String
        let pairKey: String
        let previousPairKey: String?
    }

    /// The longest login name any sign-in form accepts; longer ones are refused as input before any counting,
    /// so counter keys stay short on every database.
    public static let maxLoginNameLength = 256

    /// The limits in force.
    public let limits: Limits
    /// Where attempts are counted.
    public let counters: any WindowCounters

    public init(limits: Limits = Limits(), counters: any WindowCounters = InMemoryWindowCounters()) {
        self.limits = limits
        self.counters = counters
    }

    /// Takes one attempt from every budget this (name, address) falls under, or throws while any is spent.
    /// - Throws: ``KeygateError/loginLocked(retryAfterSeconds:)``.
    public func reserve(loginName: String, address: String, now: Date) async throws -> Reservation {
        let name = loginName.lowercased()
        let length = Int(limits.window)
        let familiarKey = "lk|\(name)|\(address)"
        let familiar = (try await counters.counts([familiarKey])[familiarKey] ?? 0) > 0
        let pair = CounterBucket.sliding("lf|p|\(name)|\(address)", length: length, budget: limits.perPair, now: now)
        var buckets = [pair, CounterBucket.sliding("lf|a|\(address)", length: length, budget: limits.perAddress, now: now)]
        if !familiar { buckets.append(CounterBucket.sliding("lf|n|\(name)", length: length, budget: limits.perLoginName, now: now)) }
        if let full = try await counters.acquire(buckets) {
            let counts = try await counters.counts(full.keys)
            let retry = full.secondsUntilFree(previous: full.previousKey.flatMap { counts[$0] } ?? 0, current: counts[full.key] ?? 0)
            throw KeygateError.loginLocked(retryAfterSeconds: retry)
        }
        return Reservation(buckets: buckets, familiarKey: familiarKey, pairKey: pair.key, previousPairKey: pair.previousKey)
    }

    /// The password was right: gives the attempt back, forgets the pair's failures (this window's; the previous
    /// window's count is forgotten as the pair's key of that window), and makes the address familiar, in one write.
    public func succeeded(_ reservation: Reservation, now: Date) async throws {
        try await counters.recordSuccess(
            release: reservation.buckets, forget: [reservation.pairKey] + (reservation.previousPairKey.map { [$0] } ?? []),
            remember: reservation.familiarKey, until: now.addingTimeInterval(limits.familiarFor))
    }

    /// The budgets a failed attempt's reservation filled (each is a lockout that began with it). Two simultaneous
    /// failures that fill the same budget may both report it; the figure is for dashboards, not decisions.
    public func filledScopes(_ reservation: Reservation) async throws -> [KeygateMetrics.LockoutScope] {
        let counts = try await counters.counts(reservation.buckets.flatMap(\.keys))
        return reservation.buckets.compactMap { bucket in
            let estimate = bucket.estimate(previous: bucket.previousKey.flatMap { counts[$0] } ?? 0, current: counts[bucket.key] ?? 0)
            guard estimate == bucket.budget else { return nil }
            switch bucket.key.prefix(5) {
            case "lf|p|": return .pair
            case "lf|a|": return .address
            default: return .login
            }
        }
    }

    /// One live failure window, for an operator (`keygate login-failures`).
    public struct FailureWindow: Sendable {
        public init(scope: String, loginName: String? = nil, address: String? = nil, failures: Int, budget: Int, endsAt: Date) {
            self.scope = scope
            self.loginName = loginName
            self.address = address
            self.failures = failures
            self.budget = budget
            self.endsAt = endsAt
        }

        /// `pair`, `address` or `login`.
        public var scope: String
        /// The login name (lower-cased), when the scope has one.
        public var loginName: String?
        /// The client address, when the scope has one.
        public var address: String?
        /// Failed attempts in the window (reservations not given back).
        public var failures: Int
        /// The window's budget; at it, the scope is locked.
        public var budget: Int
        /// When the window ends.
        public var endsAt: Date

        /// Whether the scope is locked now.
        public var locked: Bool { failures >= budget }
    }

    /// The failure windows still counting at `now`, most failures first: each scope's sliding-window estimate, the
    /// figure a new attempt is measured against.
    public func failureWindows(now: Date) async throws -> [FailureWindow] {
        let entries = try await counters.entries(prefix: "lf|", now: now)
        let counts = Dictionary(entries.map { ($0.key, $0.count) }, uniquingKeysWith: +)
        // Keys: lf|p|<login>|<address>|<start>, lf|a|<address>|<start>, lf|n|<login>|<start>. Login names hold no `|`.
        let scopes = Set(
            entries.compactMap { entry -> String? in
                guard let bar = entry.key.lastIndex(of: "|") else { return nil }
                return String(entry.key[..<bar])
            })
        let length = Int(limits.window)
        return scopes.compactMap { scope -> FailureWindow? in
            let parts = scope.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 3 else { return nil }
            let budget =
                switch parts[1] {
                case "p": limits.perPair
                case "a": limits.perAddress
                default: limits.perLoginName
                }
            let bucket = CounterBucket.sliding(scope, length: length, budget: budget, now: now)
            let current = counts[bucket.key] ?? 0
            let failures = bucket.estimate(previous: bucket.previousKey.flatMap { counts[$0] } ?? 0, current: current)
            guard failures > 0 else { return nil }
            // The last counted failure stops counting when its window has slid past.
            let endsAt = current > 0 ? bucket.expiresAt : bucket.expiresAt.addingTimeInterval(-bucket.length)
            switch parts[1] {
            case "p":
                return FailureWindow(
                    scope: "pair", loginName: parts[2], address: parts.dropFirst(3).joined(separator: "|"), failures: failures, budget: budget,
                    endsAt: endsAt)
            case "a":
                return FailureWindow(
                    scope: "address", address: parts.dropFirst(2).joined(separator: "|"), failures: failures, budget: budget, endsAt: endsAt)
            case "n":
                return FailureWindow(scope: "login", loginName: parts[2], failures: failures, budget: budget, endsAt: endsAt)
            default: return nil
            }
        }.sorted { ($0.failures, $0.scope, $0.loginName ?? "", $0.address ?? "") > ($1.failures, $1.scope, $1.loginName ?? "", $1.address ?? "") }
    }
}

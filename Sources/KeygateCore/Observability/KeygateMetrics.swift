import CoreMetrics

/// What the domain counts, as swift-metrics handles made once from one factory.
///
/// Core writes to the swift-metrics API only; which backend receives the figures (Prometheus in `keygate serve`,
/// nothing in a one-shot command) is the composition root's choice, passed in as the factory instead of through the
/// process-wide `MetricsSystem`, so that several servers in one test process each count their own.
///
/// Every label is from a fixed, small set: no organization id, login name, address or key ever becomes a label.
/// Names follow Prometheus conventions (`keygate_<area>_<thing>_total`); `docs/metrics.md` lists them.
public struct KeygateMetrics: Sendable {
    /// How an API login ended.
    public enum LoginOutcome: String, Sendable, CaseIterable {
        /// A session was created.
        case success
        /// Wrong user, password, key or timestamp, or malformed input: the caller learns only that it failed.
        case invalid
        /// Refused before the password was checked: a failure budget is spent (lockout).
        case locked
        /// The password was right but the admin or the key is disabled.
        case disabled
        /// The password was right but the role grants no API access.
        case forbidden
        /// The same (username, timestamp, obfuscated key) was used before inside the timestamp window.
        case replay
        /// The database did not answer: nothing was decided.
        case unavailable

        /// The outcome a login error stands for.
        init(_ error: any Error) {
            switch error as? KeygateError {
            case .loginLocked: self = .locked
            case .unavailable: self = .unavailable
            case .adminDisabled, .keyDisabled: self = .disabled
            case .forbidden: self = .forbidden
            default: self = .invalid
            }
        }
    }

    /// Why API sessions ended.
    public enum SessionEndReason: String, Sendable, CaseIterable {
        /// The client logged out.
        case logout
        /// Idle or past its lifetime, removed by housekeeping.
        case expired
        /// The key was edited or regenerated (per the organization's rotation policy).
        case rotation
        /// The key was deleted.
        case keyDeleted = "key_deleted"
        /// The provider disabled the key.
        case keyDisabled = "key_disabled"
        /// The admin was disabled or deleted, or their password changed.
        case adminChanged = "admin_changed"
    }

    /// What happened to a key.
    public enum KeyChangeKind: String, Sendable, CaseIterable {
        case added, edited, regenerated, deleted, disabled, enabled
    }

    /// Which failure budget a lockout filled (see ``LoginThrottle``).
    public enum LockoutScope: String, Sendable, CaseIterable {
        /// One login name from one address.
        case pair
        /// One address over all login names.
        case address
        /// One login name from unfamiliar addresses.
        case login
    }

    /// The browser sign-in surfaces.
    public enum SignInSurface: String, Sendable, CaseIterable {
        /// The organization admins' portal.
        case portal
        /// The provider's console.
        case console
    }

    /// How a browser sign-in ended.
    public enum SignInOutcome: String, Sendable, CaseIterable {
        case success, invalid, locked, disabled, unavailable

        init(_ error: any Error) {
            switch error as? KeygateError {
            case .loginLocked: self = .locked
            case .unavailable: self = .unavailable
            case .adminDisabled, .keyDisabled: self = .disabled
            default: self = .invalid
            }
        }
    }

    /// How a webhook delivery attempt ended.
    public enum WebhookAttemptOutcome: String, Sendable, CaseIterable {
        /// A 2xx answer.
        case delivered
        /// No 2xx; tried again later.
        case retry
        /// No 2xx, and the retry period is over: given up.
        case failed
    }

    private let logins: [LoginOutcome: Counter]
    private let webhookAttempts: [WebhookAttemptOutcome: Counter]
    private let created: [SessionKind: Counter]
    private let ended: [SessionEndReason: Counter]
    private let keyChanges: [KeyChangeKind: Counter]
    private let lockouts: [LockoutScope: Counter]
    private let signIns: [SignInSurface: [SignInOutcome: Counter]]

    /// Makes every handle now, so that each series is in the first scrape (at 0) and recording is a lookup.
    public init(factory: any MetricsFactory) {
        func counters<Key: RawRepresentable & CaseIterable & Hashable>(
            _ name: String, _ label: String, _ type: Key.Type, extra: [(String, String)] = []
        ) -> [Key: Counter] where Key.RawValue == String {
            Dictionary(
                uniqueKeysWithValues: Key.allCases.map { ($0, Counter(label: name, dimensions: extra + [(label, $0.rawValue)], factory: factory)) })
        }
        logins = counters("keygate_logins_total", "outcome", LoginOutcome.self)
        created = [
            .ztw: Counter(label: "keygate_sessions_created_total", dimensions: [("kind", "ztw")], factory: factory),
            .zia: Counter(label: "keygate_sessions_created_total", dimensions: [("kind", "zia")], factory: factory),
        ]
        ended = counters("keygate_sessions_ended_total", "reason", SessionEndReason.self)
        keyChanges = counters("keygate_key_changes_total", "kind", KeyChangeKind.self)
        lockouts = counters("keygate_login_lockouts_total", "scope", LockoutScope.self)
        webhookAttempts = counters("keygate_webhook_attempts_total", "outcome", WebhookAttemptOutcome.self)
        signIns = Dictionary(
            uniqueKeysWithValues: SignInSurface.allCases.map {
                ($0, counters("keygate_browser_sign_ins_total", "outcome", SignInOutcome.self, extra: [("surface", $0.rawValue)]))
            })
    }

    /// Counts nothing (one-shot commands, tests that do not look).
    public static let disabled = KeygateMetrics(factory: NOOPMetricsHandler.instance)

    /// Counts an API login.
    public func login(_ outcome: LoginOutcome) { logins[outcome]?.increment() }
    /// Counts a created API session.
    public func sessionCreated(_ kind: SessionKind) { created[kind]?.increment() }
    /// Counts `count` API sessions ended for `reason`.
    public func sessionsEnded(_ reason: SessionEndReason, count: Int) {
        if count > 0 { ended[reason]?.increment(by: count) }
    }
    /// Counts a key change.
    public func keyChanged(_ kind: KeyChangeKind) { keyChanges[kind]?.increment() }
    /// Counts a lockout that began: a failed attempt filled a budget.
    public func lockout(_ scope: LockoutScope) { lockouts[scope]?.increment() }
    /// Counts a webhook delivery attempt.
    public func webhookAttempt(_ outcome: WebhookAttemptOutcome) { webhookAttempts[outcome]?.increment() }
    /// Counts a portal or console sign-in.
    public func signIn(_ surface: SignInSurface, _ outcome: SignInOutcome) { signIns[surface]?[outcome]?.increment() }
}

extension Duration {
    /// The duration in whole nanoseconds (what swift-metrics' `Timer` records).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

import Foundation

/// Pure rules of the session check.
public enum SessionRules {
    /// How stale `lastSeenAt` may get before a request writes it again: a tenth of the idle timeout, at most a
    /// minute. Coalescing keeps the session check read-only on almost every request; the price is that a
    /// session may idle out up to this much earlier than the nominal timeout, never later.
    public static func touchInterval(idle: TimeInterval) -> TimeInterval { min(60, idle / 10) }

    /// Decides whether a stored session may serve a request at `now`: ``checkClock(_:currentKeyVersion:now:settings:)``
    /// then ``principal(for:)``.
    /// - Throws: ``KeygateError/sessionNotValid`` when it is idle too long, its admin is disabled, its key was
    ///   deleted, disabled or rotated past it (outside a grace period); ``KeygateError/forbidden(_:)`` when the
    ///   role no longer grants API access.
    public static func validate(_ snapshot: SessionSnapshot, now: Date, settings: SessionSettings) throws -> Principal {
        try checkClock(snapshot.session, currentKeyVersion: snapshot.keyVersion, now: now, settings: settings)
        return try principal(for: snapshot)
    }

    /// The part of the check that depends on the time: idle timeout, absolute lifetime, and the grace period of a
    /// session whose key was rotated (`currentKeyVersion` is the key's version now).
    /// - Throws: ``KeygateError/sessionNotValid``.
    public static func checkClock(_ session: APISession, currentKeyVersion: Int64?, now: Date, settings: SessionSettings) throws {
        guard settings.lifetime(session.kind).allows(createdAt: session.createdAt, lastSeenAt: session.lastSeenAt, now: now) else {
            throw KeygateError.sessionNotValid
        }
        if let currentKeyVersion, currentKeyVersion != session.keyVersion {
            guard let grace = session.graceUntil, now < grace else { throw KeygateError.sessionNotValid }
        }
    }

    /// The part that depends only on the rows read: the admin enabled, the session's key there and enabled, the role
    /// granting API access; the caller they make. The same for a snapshot whenever it is asked, so the
    /// ``SessionCache`` works it out once per entry.
    /// - Throws: ``KeygateError/sessionNotValid``; ``KeygateError/forbidden(_:)`` when the role grants no API access.
    public static func principal(for snapshot: SessionSnapshot) throws -> Principal {
        let session = snapshot.session
        guard !snapshot.admin.disabled else { throw KeygateError.sessionNotValid }
        guard let keyID = snapshot.keyID, snapshot.keyVersion != nil, snapshot.keyEnabled, keyID == session.keyID else {
            throw KeygateError.sessionNotValid
        }
        guard snapshot.role.apiKeyAccess != .none else {
            throw KeygateError.forbidden("your role grants no access to API key management")
        }
        return Principal(
            tokenHash: session.tokenHash, orgID: session.orgID, admin: snapshot.admin, role: snapshot.role,
            channel: .api(session.kind), key: snapshot.key, sessionKeyVersion: session.keyVersion)
    }

    /// Whether a login timestamp (epoch milliseconds as a decimal string) is inside the window around `now`.
    public static func timestampIsFresh(_ timestamp: String, now: Date, window: TimeInterval) -> Bool {
        guard isCanonicalTimestamp(timestamp), let millis = Int64(timestamp) else { return false }
        let delta = abs(Double(millis) / 1000 - now.timeIntervalSince1970)
        return delta <= window
    }

    /// Whether a login timestamp is in canonical decimal form: digits only, no sign, no leading zero, at most 18
    /// digits. The replay guard digests the timestamp as sent, so `"0" + ts` (the same instant, another string)
    /// would otherwise let a captured login body be replayed once more per added zero.
    public static func isCanonicalTimestamp(_ timestamp: String) -> Bool {
        let utf8 = timestamp.utf8
        guard let first = utf8.first, (1...18).contains(utf8.count), first != UInt8(ascii: "0") || utf8.count == 1 else { return false }
        return utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}

/// How long a session lives: one rule for API, portal and console sessions. It ends after ``idle`` without a request
/// or ``maxLifetime`` after sign-in, whichever comes first; its last-seen time is written again only once it is older
/// than ``touchInterval`` (so a session may idle out up to that much early, never late).
public struct SessionLifetime: Sendable, Equatable {
    /// The idle timeout.
    public var idle: TimeInterval
    /// The absolute lifetime, however busy the session is.
    public var maxLifetime: TimeInterval

    public init(idle: TimeInterval, maxLifetime: TimeInterval) {
        self.idle = idle
        self.maxLifetime = maxLifetime
    }

    /// Whether a session signed in at `createdAt` and last seen at `lastSeenAt` may still serve a request at `now`.
    public func allows(createdAt: Date, lastSeenAt: Date, now: Date) -> Bool {
        now.timeIntervalSince(lastSeenAt) < idle && now.timeIntervalSince(createdAt) < maxLifetime
    }

    /// How stale the last-seen time may get before a request writes it again (``SessionRules/touchInterval(idle:)``).
    public var touchInterval: TimeInterval { SessionRules.touchInterval(idle: idle) }

    /// Whether a request at `now` should write the last-seen time.
    public func touchIsDue(lastSeenAt: Date, now: Date) -> Bool { now.timeIntervalSince(lastSeenAt) >= touchInterval }
}

import Crypto
import Foundation

/// What a webhook endpoint can be told about. A payload names the event, the organization, who did it and when; it
/// never holds a key, a password, a token or a secret (the audit trail's detail is not copied either).
public enum WebhookEventType: String, Sendable, CaseIterable, Codable {
    case keyAdded = "key.added"
    case keyEdited = "key.edited"
    case keyRegenerated = "key.regenerated"
    case keyDeleted = "key.deleted"
    case keyDisabled = "key.disabled"
    case keyEnabled = "key.enabled"
    case adminCreated = "admin.created"
    case adminDisabled = "admin.disabled"
    case adminEnabled = "admin.enabled"
    case adminPasswordChanged = "admin.password_changed"
    /// API sessions ended by a key rotation (edit or regenerate), with how many.
    case sessionsEndedByRotation = "sessions.ended_by_rotation"
    /// Sent by "send test event"; never enqueued by a change.
    case test = "webhook.test"

    /// The types an endpoint may subscribe to (every one but the test event, which goes to the endpoint asked).
    public static let subscribable: [WebhookEventType] = allCases.filter { $0 != .test }
}

/// An organization's webhook endpoint. Its signing secrets are stored sealed, apart, and never part of this value.
public struct WebhookEndpoint: Sendable, Equatable {
    public var id: Int64
    public var orgID: Int64
    /// Where events are POSTed.
    public var url: String
    /// The types it receives.
    public var events: [WebhookEventType]
    public var enabled: Bool
    public var createdAt: Date
    /// Until when the secret before the last roll still signs too; nil when there is none.
    public var previousSecretUntil: Date?
    /// Why Keygate disabled it (the receiver answered `410 Gone`, or every attempt failed for
    /// ``WebhookSettings/disableAfterFailing``); nil when it is enabled or an admin disabled it. Enabling clears it.
    public var disabledReason: String?
    /// Since when every attempt has failed (the first failure after the last success); nil while it delivers.
    public var failingSince: Date?

    public init(
        id: Int64, orgID: Int64, url: String, events: [WebhookEventType], enabled: Bool, createdAt: Date, previousSecretUntil: Date? = nil,
        disabledReason: String? = nil, failingSince: Date? = nil
    ) {
        self.id = id
        self.orgID = orgID
        self.url = url
        self.events = events
        self.enabled = enabled
        self.createdAt = createdAt
        self.previousSecretUntil = previousSecretUntil
        self.disabledReason = disabledReason
        self.failingSince = failingSince
    }
}

/// Where one event's delivery to one endpoint stands.
public struct WebhookDelivery: Sendable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// Not delivered yet; tried again at ``WebhookDelivery/nextAttemptAt``.
        case pending
        /// A 2xx answer.
        case delivered
        /// Given up: no 2xx within the retry period (`webhooks.retryHours`).
        case failed
    }

    public var id: Int64
    public var endpointID: Int64
    /// The event's id: the same in every attempt and every resend (`webhook-id`), so a receiver can drop a repeat.
    public var eventID: String
    public var eventType: WebhookEventType
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastAttemptAt: Date?
    public var lastStatusCode: Int?
    /// The last attempt's outcome when it was not a 2xx: the receiver's status, or a coarse class (not allowed,
    /// unreachable, no answer in time) that never says more about the network behind the target.
    public var lastError: String?
    /// How long the receiver took to answer; nil when it did not answer (no timing of a refused or unreachable target).
    public var lastDurationMs: Int?
    public var createdAt: Date

    public init(
        id: Int64, endpointID: Int64, eventID: String, eventType: WebhookEventType, status: Status, attempts: Int, nextAttemptAt: Date?,
        lastAttemptAt: Date?, lastStatusCode: Int?, lastError: String?, lastDurationMs: Int?, createdAt: Date
    ) {
        self.id = id
        self.endpointID = endpointID
        self.eventID = eventID
        self.eventType = eventType
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastAttemptAt = lastAttemptAt
        self.lastStatusCode = lastStatusCode
        self.lastError = lastError
        self.lastDurationMs = lastDurationMs
        self.createdAt = createdAt
    }
}

/// Rules of webhooks that need no store: target URLs, signatures, the retry schedule.
public enum WebhookRules {
    /// Where a target may point. The defaults refuse plain HTTP and loopback, link-local and private addresses
    /// (a webhook must not become a way to reach the server's own network); a setting allows them (tests, labs).
    public struct TargetPolicy: Sendable {
        public var allowHTTP: Bool
        public var allowPrivate: Bool
        public init(allowHTTP: Bool = false, allowPrivate: Bool = false) {
            self.allowHTTP = allowHTTP
            self.allowPrivate = allowPrivate
        }
    }

    /// Checks a target URL's form (the addresses its host resolves to are checked again before each delivery).
    /// - Returns: the URL, trimmed.
    /// - Throws: ``KeygateError/invalidInput(_:)``.
    public static func validateURL(_ text: String, policy: TargetPolicy) throws -> String {
        let url = text.trimmingCharacters(in: .whitespaces)
        guard url.utf8.count <= 2048, let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else { throw KeygateError.invalidInput("url must be an absolute http(s) URL of at most 2048 characters") }
        guard scheme == "https" || (scheme == "http" && policy.allowHTTP) else {
            throw KeygateError.invalidInput(policy.allowHTTP ? "url must be http or https" : "url must be https")
        }
        guard components.user == nil, components.password == nil, components.fragment == nil else {
            throw KeygateError.invalidInput("url must not hold credentials or a fragment")
        }
        if !policy.allowPrivate, InternalAddress.check(host) == true {
            throw KeygateError.invalidInput("url must not point to an address that is not public (loopback, private, link-local, documentation, …)")
        }
        var name = host.lowercased()
        if name.hasSuffix(".") { name.removeLast() }  // `localhost.` is `localhost`
        if !policy.allowPrivate, ["localhost", "localhost.localdomain"].contains(name) || name.hasSuffix(".localhost") {
            throw KeygateError.invalidInput("url must not point to a loopback, link-local or private address")
        }
        return url
    }

    /// `webhook-signature` of Standard Webhooks v1: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, one per
    /// secret that signs (two, space-separated, while a rolled secret's overlap lasts). `key` is ``signingKey(_:)``.
    public static func signature(secrets: [String], id: String, timestamp: Int64, body: [UInt8]) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        return secrets.map { secret in
            let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: signingKey(secret)))
            return "v1," + Data(mac).base64EncodedString()
        }.joined(separator: " ")
    }

    /// The HMAC key of a secret, as every Standard Webhooks library reads it: the base64 after `whsec_`. Secrets made
    /// before Keygate signed this way (`whsec_` and 64 hex digits) are valid base64 too, so they keep working, unchanged,
    /// with the same libraries: their key is those 64 characters read as base64 (48 bytes). A secret that is not base64
    /// (never one Keygate made) is keyed with its UTF-8 bytes.
    public static func signingKey(_ secret: String) -> [UInt8] {
        var encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        encoded += String(repeating: "=", count: (4 - encoded.count % 4) % 4)  // unpadded base64, as the libraries accept
        if let data = Data(base64Encoded: encoded), !data.isEmpty { return Array(data) }
        return Array(secret.utf8)
    }

    /// A new endpoint secret: `whsec_` and 32 random bytes in base64 (Standard Webhooks asks for 24 to 64).
    public static func newSecret() -> String {
        "whsec_" + Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }).base64EncodedString()
    }

    /// A target URL as the audit trail and the logs may show it: scheme, host, port and path, without user info,
    /// query or fragment (a query becomes `?…`), and each path segment that may be a token (``looksLikeToken(_:)``) cut
    /// to its first third (4 characters at most) and `…`, so a Slack-style `/services/T0/B0/<token>` or a `?token=` never reaches the
    /// trail.
    public static func redactedURL(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else {
            return "(not a URL)"
        }
        var shown = scheme + "://" + (host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host)
        if let port = components.port { shown += ":\(port)" }
        shown += components.percentEncodedPath.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            looksLikeToken(segment) ? segment.prefix(min(4, segment.count / 3)) + "…" : String(segment)
        }.joined(separator: "/")
        if components.percentEncodedQuery != nil { shown += "?…" }
        return shown
    }

    /// Only a short segment, or a word (letters, `-`, `_`, `.`) under 12 characters, is shown whole: anything with a
    /// digit, other punctuation or percent-encoding, or of 12 characters or more, may be a token.
    private static func looksLikeToken(_ segment: Substring) -> Bool {
        guard segment.count > 3 else { return false }
        let word = segment.allSatisfy { $0.isASCII && ($0.isLetter || $0 == "-" || $0 == "_" || $0 == ".") }
        return !(word && segment.count < 12)
    }

    /// When attempt `attempts` + 1 is due after a failure: `base` doubled per attempt (30 s, 1 min, 2 min, …), at most an
    /// hour apart, times `jitter` (0.8 to 1.2 at random, so the retries of many deliveries that failed together, e.g.
    /// during a receiver's outage, do not all arrive together again); nil once `giveUpAfter` has passed since the
    /// event (the delivery is then failed).
    public static func nextAttempt(
        after attempts: Int, eventAt: Date, now: Date, base: TimeInterval, giveUpAfter: TimeInterval, jitter: Double = .random(in: 0.8...1.2)
    ) -> Date? {
        let delay = min(3600, base * pow(2, Double(max(0, attempts - 1)))) * jitter
        let next = now.addingTimeInterval(delay)
        return next.timeIntervalSince(eventAt) > giveUpAfter ? nil : next
    }
}

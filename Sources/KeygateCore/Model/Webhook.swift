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

    public init(
        id: Int64, orgID: Int64, url: String, events: [WebhookEventType], enabled: Bool, createdAt: Date, previousSecretUntil: Date? = nil
    ) {
        self.id = id
        self.orgID = orgID
        self.url = url
        self.events = events
        self.enabled = enabled
        self.createdAt = createdAt
        self.previousSecretUntil = previousSecretUntil
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
    /// The event's id: the same in every attempt (`Keygate-Event-Id`), so a receiver can drop a repeat.
    public var eventID: String
    public var eventType: WebhookEventType
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastAttemptAt: Date?
    public var lastStatusCode: Int?
    public var lastError: String?
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
        if !policy.allowPrivate, InternalAddress.check(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) == true {
            throw KeygateError.invalidInput("url must not point to a loopback, link-local or private address")
        }
        if !policy.allowPrivate, ["localhost", "localhost.localdomain"].contains(host.lowercased()) || host.lowercased().hasSuffix(".localhost") {
            throw KeygateError.invalidInput("url must not point to a loopback, link-local or private address")
        }
        return url
    }

    /// `Keygate-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, one `v1` per secret that signs
    /// (two while a rolled secret's overlap lasts), as Stripe does.
    public static func signature(secrets: [String], timestamp: Int64, body: [UInt8]) -> String {
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        let signatures = secrets.map { secret in
            Secrets.hex(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8))))
        }
        return (["t=\(timestamp)"] + signatures.map { "v1=\($0)" }).joined(separator: ",")
    }

    /// A new endpoint secret: `whsec_` and 32 random bytes in hex.
    public static func newSecret() -> String { "whsec_" + Secrets.hex(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }) }

    /// When attempt `attempts` + 1 is due after a failure: `base` doubled per attempt (30 s, 1 min, 2 min, …), at most an
    /// hour apart; nil once `giveUpAfter` has passed since the event (the delivery is then failed).
    public static func nextAttempt(after attempts: Int, eventAt: Date, now: Date, base: TimeInterval, giveUpAfter: TimeInterval) -> Date? {
        let delay = min(3600, base * pow(2, Double(max(0, attempts - 1))))
        let next = now.addingTimeInterval(delay)
        return next.timeIntervalSince(eventAt) > giveUpAfter ? nil : next
    }
}

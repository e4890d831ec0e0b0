import Foundation

/// Webhook endpoints, the events to deliver (an outbox written in the same transaction as the change that causes
/// them, see ``KeygateStore``), and the deliveries' state.
///
/// Enqueueing is the store's own: every audit event whose action stands for a ``WebhookEventType`` is also written
/// as a webhook event, with one pending delivery per enabled endpoint of the organization that subscribes to it, in
/// the transaction that writes the audit event. So a change and its events commit together or not at all.
public protocol WebhookStore: Sendable {
    /// Inserts an endpoint with its sealed secret, unless the organization has `limit` already (counted in the same
    /// transaction, the organization's row locked, so simultaneous inserts cannot pass the limit together).
    /// - Returns: the endpoint with its id. - Throws: ``KeygateError/conflict(_:)`` at the limit.
    func insertWebhookEndpoint(_ endpoint: WebhookEndpoint, sealedSecret: String, limit: Int, audit: AuditEvent) async throws -> WebhookEndpoint
    /// The organization's endpoints, oldest first.
    func webhookEndpoints(orgID: Int64) async throws -> [WebhookEndpoint]
    /// One endpoint of the organization; nil when there is none with that id.
    func webhookEndpoint(orgID: Int64, id: Int64) async throws -> WebhookEndpoint?
    /// Replaces url, events and enabled.
    func updateWebhookEndpoint(_ endpoint: WebhookEndpoint, audit: AuditEvent) async throws
    /// Deletes an endpoint and its deliveries. - Returns: whether it existed.
    func deleteWebhookEndpoint(orgID: Int64, id: Int64, audit: AuditEvent) async throws -> Bool
    /// Makes `sealedSecret` the signing secret; the one before keeps signing until `previousUntil`.
    func rollWebhookSecret(orgID: Int64, id: Int64, sealedSecret: String, previousUntil: Date, audit: AuditEvent) async throws
    /// The sealed secrets that sign for an endpoint now: the current one, and the previous one while its overlap lasts.
    func webhookSecrets(endpointID: Int64, at now: Date) async throws -> [String]
    /// Enqueues one `webhook.test` event for one endpoint. - Returns: the delivery.
    func enqueueWebhookTest(endpoint: WebhookEndpoint, payload: String, eventID: String, at now: Date) async throws -> Int64
    /// The endpoint's latest deliveries, newest first.
    func webhookDeliveries(endpointID: Int64, limit: Int) async throws -> [WebhookDelivery]
    /// Makes a delivery due now again: a failed or pending one that no server is sending now (its lease has ended).
    /// - Returns: whether it is due now; false when it was delivered or is being sent; nil when the endpoint has no
    ///   such delivery.
    func retryWebhookDelivery(endpointID: Int64, id: Int64, at now: Date) async throws -> Bool?
    /// Claims up to `limit` due deliveries for this process until `leaseUntil` and counts an attempt for each: no other
    /// process claims them before the lease ends (PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite has one writer).
    func claimWebhookDeliveries(now: Date, leaseUntil: Date, limit: Int) async throws -> [WebhookJob]
    /// Records attempt number `attempt`'s outcome: delivered, or due again at `nextAttemptAt`, or failed when that is
    /// nil. Nothing is recorded when the delivery has been claimed again meanwhile (this attempt's lease ran out): the
    /// newer attempt's outcome is the one that counts.
    func completeWebhookDelivery(id: Int64, attempt: Int, outcome: WebhookAttempt) async throws
    /// Deletes finished deliveries (delivered or failed) last touched before `before`, and events none refers to any
    /// more. - Returns: the deliveries deleted.
    func pruneWebhookLog(before: Date) async throws -> Int
    /// Up to `limit` endpoints' sealed secrets with ids above `afterID`, by id (a master-key rotation's pass).
    func sealedWebhookSecrets(afterID: Int64, limit: Int) async throws -> [SealedWebhookSecrets]
    /// Replaces sealed secrets, each only where the row still holds `from`. - Returns: the values replaced.
    func resealWebhookSecrets(_ changes: [WebhookSecretReseal]) async throws -> Int
}

/// An endpoint's secrets as stored (sealed).
public struct SealedWebhookSecrets: Sendable {
    public var endpointID: Int64
    public var orgID: Int64
    public var current: String
    public var previous: String?

    public init(endpointID: Int64, orgID: Int64, current: String, previous: String?) {
        self.endpointID = endpointID
        self.orgID = orgID
        self.current = current
        self.previous = previous
    }
}

/// One sealed webhook secret re-sealed under another master key.
public struct WebhookSecretReseal: Sendable {
    public var endpointID: Int64
    /// The previous secret (`true`) or the current one.
    public var previous: Bool
    public var from: String
    public var to: String

    public init(endpointID: Int64, previous: Bool, from: String, to: String) {
        self.endpointID = endpointID
        self.previous = previous
        self.from = from
        self.to = to
    }
}

/// A claimed delivery, with what sending it needs.
public struct WebhookJob: Sendable {
    public var deliveryID: Int64
    public var endpointID: Int64
    public var orgID: Int64
    public var url: String
    public var eventID: String
    public var eventType: WebhookEventType
    /// The JSON body, exactly as signed and sent.
    public var payload: String
    /// This attempt's number (1 for the first).
    public var attempt: Int
    public var eventAt: Date

    public init(
        deliveryID: Int64, endpointID: Int64, orgID: Int64, url: String, eventID: String, eventType: WebhookEventType, payload: String,
        attempt: Int, eventAt: Date
    ) {
        self.deliveryID = deliveryID
        self.endpointID = endpointID
        self.orgID = orgID
        self.url = url
        self.eventID = eventID
        self.eventType = eventType
        self.payload = payload
        self.attempt = attempt
        self.eventAt = eventAt
    }
}

/// One attempt's outcome.
public struct WebhookAttempt: Sendable {
    public var at: Date
    /// The receiver's status; nil when there was no answer (refused, timed out, a target not allowed).
    public var statusCode: Int?
    public var error: String?
    public var durationMs: Int
    public var delivered: Bool
    /// When to try again; nil with `delivered` false: failed for good.
    public var nextAttemptAt: Date?

    public init(at: Date, statusCode: Int?, error: String?, durationMs: Int, delivered: Bool, nextAttemptAt: Date?) {
        self.at = at
        self.statusCode = statusCode
        self.error = error
        self.durationMs = durationMs
        self.delivered = delivered
        self.nextAttemptAt = nextAttemptAt
    }
}

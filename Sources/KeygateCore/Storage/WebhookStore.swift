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
    /// Changes what `change` names and nothing else (a change read before a simultaneous automatic disable cannot
    /// undo it); enabling clears why Keygate disabled it and the failure streak. - Returns: whether it exists.
    @discardableResult
    func updateWebhookEndpoint(orgID: Int64, id: Int64, _ change: WebhookEndpointChange, audit: AuditEvent) async throws -> Bool
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
    /// Queues new pending deliveries, due now, of events already sent to an endpoint (``WebhookRequeue``), within its
    /// limits, with its audit event when any was queued.
    func requeueWebhookEvents(_ requeue: WebhookRequeue) async throws -> WebhookRequeueResult
    /// Claims up to `limit` due deliveries for this process until `leaseUntil` and counts an attempt for each: no other
    /// process claims them before the lease ends. Organizations take turns (each one's first due delivery, then each
    /// one's second, …), and an organization with `perOrganization` deliveries leased (on any server) gets no more.
    func claimWebhookDeliveries(now: Date, leaseUntil: Date, limit: Int, perOrganization: Int) async throws -> [WebhookJob]
    /// Records attempt number `attempt`'s outcome: delivered, or due again at `nextAttemptAt`, or failed when that is
    /// nil, and what it means for the endpoint (``WebhookAttempt/EndpointEffect``). Nothing is recorded when the
    /// delivery has been claimed again meanwhile (this attempt's lease ran out: the newer attempt's outcome is the one
    /// that counts) or is no longer pending (failed by a disable or a backlog limit while it was being sent).
    /// - Returns: whether this outcome disabled the endpoint.
    @discardableResult
    func completeWebhookDelivery(id: Int64, attempt: Int, outcome: WebhookAttempt) async throws -> Bool
    /// Fails the oldest pending deliveries beyond `limits` (per endpoint, then per organization) that no server is
    /// sending now, with ``WebhookPendingLimits/reachedText``: a dead receiver's backlog stays bounded and the newest
    /// events are the ones kept. - Returns: how many failed.
    func failExcessWebhookDeliveries(limits: WebhookPendingLimits, at now: Date) async throws -> Int
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

/// How many pending deliveries an endpoint and an organization may have (``WebhookSettings``).
public struct WebhookPendingLimits: Sendable {
    public var perEndpoint: Int
    public var perOrganization: Int

    public init(perEndpoint: Int, perOrganization: Int) {
        self.perEndpoint = perEndpoint
        self.perOrganization = perOrganization
    }

    /// The error of a delivery written failed because a limit was reached.
    public static let reachedText = "dropped: more pending deliveries than the endpoint or the organization may have (recover sends it again)"
}

/// What an admin changes on an endpoint; nil leaves a field as it is.
public struct WebhookEndpointChange: Sendable, Equatable {
    public var url: String?
    public var events: [WebhookEventType]?
    public var enabled: Bool?

    public init(url: String? = nil, events: [WebhookEventType]? = nil, enabled: Bool? = nil) {
        self.url = url
        self.events = events
        self.enabled = enabled
    }
}

/// What a requeue did: the deliveries it queued, and how many events it matched (more than it queued when the
/// limits left no room).
public struct WebhookRequeueResult: Sendable, Equatable {
    public var queued: [Int64]
    public var matched: Int

    public init(queued: [Int64], matched: Int) {
        self.queued = queued
        self.matched = matched
    }
}

/// Events to send to an endpoint again: one delivery's (resend), or every one that failed since a time and was not
/// delivered or queued again since (recover).
public struct WebhookRequeue: Sendable {
    public enum Selection: Sendable {
        case delivery(Int64)
        case failedSince(Date)
    }

    public var endpointID: Int64
    public var orgID: Int64
    public var selection: Selection
    public var at: Date
    public var limits: WebhookPendingLimits
    public var audit: AuditEvent

    public init(endpointID: Int64, orgID: Int64, selection: Selection, at: Date, limits: WebhookPendingLimits, audit: AuditEvent) {
        self.endpointID = endpointID
        self.orgID = orgID
        self.selection = selection
        self.at = at
        self.limits = limits
        self.audit = audit
    }
}

/// One attempt's outcome.
public struct WebhookAttempt: Sendable {
    /// What an attempt means for its endpoint.
    public enum EndpointEffect: Sendable {
        /// It delivered: the endpoint's failure streak ends.
        case delivering
        /// It failed: the streak starts now unless it has already; when it started at or before
        /// `disableIfFailingSince`, the endpoint is disabled with `reason`, its pending deliveries fail, and `audit` is
        /// written.
        case failing(disableIfFailingSince: Date, reason: String, audit: AuditEvent)
        /// Disable the endpoint now (the receiver answered `410 Gone`), as above.
        case disable(reason: String, audit: AuditEvent)
        /// Nothing about the receiver was learnt (Keygate could not sign).
        case unchanged
    }

    public var at: Date
    public var statusCode: Int?
    public var error: String?
    /// How long the receiver took to answer; nil when it did not.
    public var durationMs: Int?
    public var delivered: Bool
    public var nextAttemptAt: Date?
    public var endpoint: EndpointEffect

    public init(
        at: Date, statusCode: Int?, error: String?, durationMs: Int?, delivered: Bool, nextAttemptAt: Date?, endpoint: EndpointEffect
    ) {
        self.at = at
        self.statusCode = statusCode
        self.error = error
        self.durationMs = durationMs
        self.delivered = delivered
        self.nextAttemptAt = nextAttemptAt
        self.endpoint = endpoint
    }
}

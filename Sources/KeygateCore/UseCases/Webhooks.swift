import Foundation

// Lifecycle webhooks: an organization's endpoints (admins with key write access manage them, key readers see them),
// test events and retries, and the delivery of due events (any server; the store's lease keeps two from sending the
// same attempt at once).

/// How webhooks behave. Configuration keys (read by the executable): `webhooks.allowHTTP` (false),
/// `webhooks.allowPrivateTargets` (false), `webhooks.timeoutSeconds` (10), `webhooks.retryBaseSeconds` (30),
/// `webhooks.retryHours` (24), `webhooks.secretOverlapHours` (24), `webhooks.disableAfterFailingDays` (5),
/// `webhooks.maxPendingPerEndpoint` (1000), `webhooks.maxPendingPerOrganization` (5000),
/// `webhooks.maxInFlightPerOrganization` (4).
public struct WebhookSettings: Sendable {
    /// Which target URLs are allowed (https and public addresses by default).
    public var policy = WebhookRules.TargetPolicy()
    /// A receiver that has not answered within this is a failed attempt.
    public var timeout = TimeInterval(ConfigKeys.webhooksTimeoutSeconds.defaultValue)
    /// The first retry's delay; each next one doubles, at most an hour.
    public var retryBase = TimeInterval(ConfigKeys.webhooksRetryBaseSeconds.defaultValue)
    /// After this long since the event, a delivery that never got a 2xx is failed.
    public var giveUpAfter = TimeInterval(ConfigKeys.webhooksRetryHours.defaultValue * 3600)
    /// How long a rolled secret keeps signing next to the new one.
    public var secretOverlap = TimeInterval(ConfigKeys.webhooksSecretOverlapHours.defaultValue * 3600)
    /// An endpoint whose every attempt has failed for this long is disabled, with the reason shown.
    public var disableAfterFailing = TimeInterval(ConfigKeys.webhooksDisableAfterFailingDays.defaultValue * 86_400)
    /// Pending deliveries an endpoint, and an organization, may have. Beyond either, the oldest pending ones fail with
    /// the reason (``WebhookUseCases/limitBacklog()``): the change an event reports is never refused, and "recover"
    /// sends the dropped ones once the receiver is back.
    public var maxPendingPerEndpoint = ConfigKeys.webhooksMaxPendingPerEndpoint.defaultValue
    public var maxPendingPerOrganization = ConfigKeys.webhooksMaxPendingPerOrganization.defaultValue
    /// Deliveries of one organization in flight at once, across every server: one tenant's slow receivers hold at
    /// most this many of a server's sending slots.
    public var maxInFlightPerOrganization = ConfigKeys.webhooksMaxInFlightPerOrganization.defaultValue

    public init() {}
}

/// How one attempt ended, as the sender saw it. Only an answer carries detail; a target that is not allowed, cannot be
/// reached or does not answer in time is a coarse class with no timing, so the log cannot map a network.
public enum WebhookSendResult: Sendable, Equatable {
    /// The receiver answered with this status after this many milliseconds.
    case answered(status: Int, milliseconds: Int)
    /// The SSRF guard refused the target (an address that is not public, or a name that does not resolve).
    case notAllowed
    /// No connection could be made (refused, reset, TLS failure).
    case unreachable
    /// No answer within ``WebhookSettings/timeout``.
    case timedOut

    /// What the delivery log says of an attempt that was not a 2xx.
    var logText: String? {
        switch self {
        case .answered(let status, _): (200..<300).contains(status) ? nil : "the receiver answered \(status)"
        case .notAllowed: "target not allowed"
        case .unreachable: "target unreachable"
        case .timedOut: "no answer in time"
        }
    }
}

/// Sends one webhook request (HTTP lives outside Core).
public protocol WebhookSender: Sendable {
    /// POSTs `body` to `url`; never throws.
    func post(url: String, headers: [(String, String)], body: [UInt8], timeout: TimeInterval) async -> WebhookSendResult
}

/// Lifecycle webhooks: endpoints, the delivery log, delivery.
public struct WebhookUseCases: UseCases {
    /// What this concept needs of storage: the webhook rows.
    let webhookStorage: any WebhookStore
    let environment: UseCaseEnvironment
}

extension WebhookUseCases {
    /// Webhook targets, timeouts and retries.
    var webhooks: WebhookSettings { environment.webhookSettings }

    /// The organization's endpoints. Requires ``AccessRules/Action/viewWebhooks``.
    public func webhookEndpoints(_ principal: Principal) async throws -> [WebhookEndpoint] {
        try principal.require(.viewWebhooks)
        return try await webhookStorage.webhookEndpoints(orgID: principal.orgID)
    }

    /// One endpoint. Requires ``AccessRules/Action/viewWebhooks``.
    public func webhookEndpoint(_ principal: Principal, id: Int64) async throws -> WebhookEndpoint {
        try principal.require(.viewWebhooks)
        guard let endpoint = try await webhookStorage.webhookEndpoint(orgID: principal.orgID, id: id) else {
            throw KeygateError.notFound("webhook \(id) not found")
        }
        return endpoint
    }

    /// Endpoints an organization may have.
    public static let maxWebhookEndpoints = 20

    /// Registers an endpoint. Requires ``AccessRules/Action/manageWebhooks``. At most ``maxWebhookEndpoints`` per organization.
    /// - Parameter events: the types to receive; nil or empty: all of them.
    /// - Returns: the endpoint and its signing secret, which is shown this once (stored sealed).
    public func createWebhookEndpoint(_ principal: Principal, url: String, events: [WebhookEventType]?, enabled: Bool = true) async throws -> (
        WebhookEndpoint, secret: String
    ) {
        try principal.require(.manageWebhooks)
        let url = try WebhookRules.validateURL(url, policy: webhooks.policy)
        let secret = WebhookRules.newSecret()
        let draft = WebhookEndpoint(
            id: 0, orgID: principal.orgID, url: url, events: Self.eventTypes(events), enabled: enabled, createdAt: now())
        // Sealed with a context naming the organization: the endpoint id is not known before the insert.
        let sealed = try cipher.seal(secret: secret, context: "webhook:\(principal.orgID)")
        let endpoint = try await webhookStorage.insertWebhookEndpoint(
            draft, sealedSecret: sealed, limit: Self.maxWebhookEndpoints,
            audit: audit(principal, .webhookCreated, "webhook endpoint \(WebhookRules.redactedURL(url))")
        )
        return (endpoint, secret)
    }

    /// Changes an endpoint's URL, event types or enabled flag: only those given. Enabling it again clears why Keygate
    /// disabled it and its failure streak. Requires ``AccessRules/Action/manageWebhooks``.
    public func updateWebhookEndpoint(
        _ principal: Principal, id: Int64, url: String?, events: [WebhookEventType]?, enabled: Bool?
    ) async throws -> WebhookEndpoint {
        _ = try await webhookEndpoint(principal, id: id)
        try principal.require(.manageWebhooks)
        let change = WebhookEndpointChange(
            url: try url.map { try WebhookRules.validateURL($0, policy: webhooks.policy) }, events: events.map { Self.eventTypes($0) },
            enabled: enabled)
        let detail = "webhook endpoint \(id)" + (change.url.map { " (\(WebhookRules.redactedURL($0)))" } ?? "")
        guard
            try await webhookStorage.updateWebhookEndpoint(
                orgID: principal.orgID, id: id, change, audit: audit(principal, .webhookUpdated, detail))
        else { throw KeygateError.notFound("webhook \(id) not found") }
        return try await webhookEndpoint(principal, id: id)
    }

    /// Deletes an endpoint and its delivery log. Requires ``AccessRules/Action/manageWebhooks``.
    public func deleteWebhookEndpoint(_ principal: Principal, id: Int64) async throws {
        try principal.require(.manageWebhooks)
        guard
            try await webhookStorage.deleteWebhookEndpoint(
                orgID: principal.orgID, id: id, audit: audit(principal, .webhookDeleted, "webhook endpoint \(id)"))
        else {
            throw KeygateError.notFound("webhook \(id) not found")
        }
    }

    /// Rolls the signing secret: the new one is returned (shown once); the old one keeps signing next to it for
    /// ``WebhookSettings/secretOverlap``, so receivers can switch without losing an event. Requires ``AccessRules/Action/manageWebhooks``.
    public func rollWebhookSecret(_ principal: Principal, id: Int64) async throws -> (WebhookEndpoint, secret: String) {
        _ = try await webhookEndpoint(principal, id: id)
        try principal.require(.manageWebhooks)
        let secret = WebhookRules.newSecret()
        try await webhookStorage.rollWebhookSecret(
            orgID: principal.orgID, id: id, sealedSecret: try cipher.seal(secret: secret, context: "webhook:\(principal.orgID)"),
            previousUntil: now().addingTimeInterval(webhooks.secretOverlap),
            audit: audit(principal, .webhookSecretRolled, "webhook endpoint \(id)"))
        return (try await webhookEndpoint(principal, id: id), secret)
    }

    /// Enqueues a `webhook.test` event for one endpoint (enabled or not). Requires ``AccessRules/Action/manageWebhooks``.
    /// - Returns: the delivery's id.
    public func sendTestWebhook(_ principal: Principal, id: Int64) async throws -> Int64 {
        let endpoint = try await webhookEndpoint(principal, id: id)
        try principal.require(.manageWebhooks)
        let eventID = WebhookPayload.newEventID()
        let payload = WebhookPayload.json(
            id: eventID, type: .test, at: now(), orgID: principal.orgID, actor: principal.actor,
            data: ["summary": .string("a test event, sent on request")])
        return try await webhookStorage.enqueueWebhookTest(endpoint: endpoint, payload: payload, eventID: eventID, at: now())
    }

    /// The endpoint's latest deliveries (at most 100), newest first. Requires ``AccessRules/Action/viewWebhooks``.
    public func webhookDeliveries(_ principal: Principal, id: Int64, limit: Int = 50) async throws -> [WebhookDelivery] {
        _ = try await webhookEndpoint(principal, id: id)
        return try await webhookStorage.webhookDeliveries(endpointID: id, limit: max(1, min(limit, 100)))
    }

    /// Makes a failed (or pending) delivery due now. Requires ``AccessRules/Action/manageWebhooks``.
    /// - Returns: false when there is nothing to retry: the delivery was delivered meanwhile (an automatic retry can
    ///   win the race with a person's click), or is being sent right now; its next state shows in the log.
    /// - Throws: ``KeygateError/notFound(_:)`` for an endpoint or delivery the caller's organization does not have.
    public func retryWebhookDelivery(_ principal: Principal, endpointID: Int64, deliveryID: Int64) async throws -> Bool {
        _ = try await webhookEndpoint(principal, id: endpointID)
        try principal.require(.manageWebhooks)
        guard let due = try await webhookStorage.retryWebhookDelivery(endpointID: endpointID, id: deliveryID, at: now()) else {
            throw KeygateError.notFound("no delivery \(deliveryID) for webhook endpoint \(endpointID)")
        }
        return due
    }

    /// Sends one delivery of the same event again, whatever became of the last one: a new row in the log, due now,
    /// with the same `webhook-id` (a receiver that already has the event drops it). Requires
    /// ``AccessRules/Action/manageWebhooks``.
    /// - Returns: the new delivery's id.
    /// - Throws: ``KeygateError/notFound(_:)`` for an endpoint or delivery the caller's organization does not have;
    ///   ``KeygateError/conflict(_:)`` when the endpoint or the organization has its most pending deliveries.
    public func resendWebhookDelivery(_ principal: Principal, endpointID: Int64, deliveryID: Int64) async throws -> Int64 {
        _ = try await webhookEndpoint(principal, id: endpointID)
        try principal.require(.manageWebhooks)
        let result = try await webhookStorage.requeueWebhookEvents(
            WebhookRequeue(
                endpointID: endpointID, orgID: principal.orgID, selection: .delivery(deliveryID), at: now(), limits: pendingLimits,
                audit: audit(principal, .webhookResent, "webhook endpoint \(endpointID): delivery \(deliveryID) sent again")))
        guard result.matched > 0 else { throw KeygateError.notFound("no delivery \(deliveryID) for webhook endpoint \(endpointID)") }
        guard let id = result.queued.first else {
            throw KeygateError.conflict("the endpoint or the organization has its most pending deliveries; try again once they are sent")
        }
        return id
    }

    /// Sends again every event whose delivery to this endpoint failed since `since` and has not been delivered or
    /// queued again since: what a receiver that was down, or disabled, asks for when it is back. Requires
    /// ``AccessRules/Action/manageWebhooks``.
    /// - Returns: how many deliveries were queued (at most what the pending limits leave room for).
    public func recoverWebhookDeliveries(_ principal: Principal, endpointID: Int64, since: Date) async throws -> Int {
        _ = try await webhookEndpoint(principal, id: endpointID)
        try principal.require(.manageWebhooks)
        guard since <= now() else { throw KeygateError.invalidInput("since must not be in the future") }
        return try await webhookStorage.requeueWebhookEvents(
            WebhookRequeue(
                endpointID: endpointID, orgID: principal.orgID, selection: .failedSince(since), at: now(), limits: pendingLimits,
                audit: audit(
                    principal, .webhookRecovered,
                    "webhook endpoint \(endpointID): failed deliveries since \(since.formatted(.iso8601)) sent again"))
        ).queued.count
    }

    private var pendingLimits: WebhookPendingLimits {
        WebhookPendingLimits(perEndpoint: webhooks.maxPendingPerEndpoint, perOrganization: webhooks.maxPendingPerOrganization)
    }

    /// Claims due deliveries for a server's free sending slots: at most `limit`, taken across organizations in turn
    /// (the first due of each, then the second, …), and none of an organization that already has
    /// ``WebhookSettings/maxInFlightPerOrganization`` in flight on any server. Each is leased to this server until its
    /// timeout has passed, so no other sends it at the same time.
    public func claimDueWebhooks(limit: Int) async throws -> [WebhookJob] {
        let started = now()
        return try await webhookStorage.claimWebhookDeliveries(
            now: started, leaseUntil: started.addingTimeInterval(webhooks.timeout + 30), limit: limit,
            perOrganization: webhooks.maxInFlightPerOrganization)
    }

    /// Claims due deliveries (``claimDueWebhooks(limit:)``) and sends them all at once; for tests and tools (the server
    /// sends from a pool that claims as slots free up, so that no round waits for its slowest receiver).
    /// - Returns: how many were attempted.
    @discardableResult
    public func deliverDueWebhooks(sender: any WebhookSender, limit: Int = 20) async throws -> Int {
        let jobs = try await claimDueWebhooks(limit: limit)
        await withTaskGroup(of: Void.self) { group in
            for job in jobs { group.addTask { await deliver(job, sender: sender) } }
        }
        return jobs.count
    }

    /// Sends one claimed delivery, signed as Standard Webhooks v1 with the endpoint's secrets, and records the outcome:
    /// a 2xx delivers; `410 Gone` fails it and disables the endpoint; anything else is retried later (with jitter)
    /// until ``WebhookSettings/giveUpAfter``. An endpoint whose every attempt has failed for
    /// ``WebhookSettings/disableAfterFailing`` is disabled. Each disabling is in the audit trail, with the reason.
    /// - Returns: the reason, when this attempt disabled the endpoint (the caller logs it).
    @discardableResult
    public func deliver(_ job: WebhookJob, sender: any WebhookSender) async -> String? {
        let secrets: [String]
        do {
            secrets = try await webhookStorage.webhookSecrets(endpointID: job.endpointID, at: now()).map {
                try cipher.openSecret($0, context: "webhook:\(job.orgID)")
            }
        } catch is KeyCipherError {
            // The master key does not open the secret: the server's fault, retried like a failed attempt.
            return await record(
                job,
                WebhookAttempt(
                    at: now(), statusCode: nil, error: "cannot sign: the master key does not open the secret", durationMs: nil, delivered: false,
                    nextAttemptAt: nextAttempt(job, at: now()), endpoint: .unchanged))
        } catch {
            return nil  // the database did not answer: no attempt was made; the lease runs out and it is claimed again
        }
        let body = Array(job.payload.utf8)
        let timestamp = Int64(now().timeIntervalSince1970)
        let headers = [
            ("Content-Type", "application/json"), ("User-Agent", "Keygate-Webhooks/2"), ("webhook-id", job.eventID),
            ("webhook-timestamp", "\(timestamp)"),
            ("webhook-signature", WebhookRules.signature(secrets: secrets, id: job.eventID, timestamp: timestamp, body: body)),
            ("Keygate-Event-Type", job.eventType.rawValue), ("Keygate-Delivery-Attempt", "\(job.attempt)"),
        ]
        let result = await sender.post(url: job.url, headers: headers, body: body, timeout: webhooks.timeout)
        // Stopped mid-send (a deploy's graceful shutdown): nothing is known of the receiver, so nothing is recorded and
        // no failure streak begins; the lease runs out and another server (or this one, restarted) sends it.
        guard !Task.isCancelled else { return nil }
        let at = now()
        let attempt: WebhookAttempt
        switch result {
        case .answered(let status, let milliseconds) where (200..<300).contains(status):
            attempt = WebhookAttempt(
                at: at, statusCode: status, error: nil, durationMs: milliseconds, delivered: true, nextAttemptAt: nil, endpoint: .delivering)
        case .answered(410, let milliseconds):
            let reason = "the receiver answered 410 Gone"
            attempt = WebhookAttempt(
                at: at, statusCode: 410, error: reason + ": endpoint disabled", durationMs: milliseconds, delivered: false, nextAttemptAt: nil,
                endpoint: .disable(reason: reason, audit: disabledAudit(job, reason: reason, at: at)))
        default:
            let reason = "every attempt failed for \(Int(webhooks.disableAfterFailing / 86_400)) days"
            var milliseconds: Int? = nil
            if case .answered(_, let ms) = result { milliseconds = ms }
            attempt = WebhookAttempt(
                at: at, statusCode: { if case .answered(let status, _) = result { status } else { nil } }(), error: result.logText,
                durationMs: milliseconds, delivered: false, nextAttemptAt: nextAttempt(job, at: at),
                endpoint: .failing(
                    disableIfFailingSince: at.addingTimeInterval(-webhooks.disableAfterFailing), reason: reason,
                    audit: disabledAudit(job, reason: reason, at: at)))
        }
        return await record(job, attempt)
    }

    private func nextAttempt(_ job: WebhookJob, at: Date) -> Date? {
        WebhookRules.nextAttempt(after: job.attempt, eventAt: job.eventAt, now: at, base: webhooks.retryBase, giveUpAfter: webhooks.giveUpAfter)
    }

    /// The trail's record of Keygate disabling an endpoint (the server acts, so the actor is the provider's service).
    private func disabledAudit(_ job: WebhookJob, reason: String, at: Date) -> AuditEvent {
        AuditEvent(
            orgID: job.orgID, at: at, actor: .provider(name: "keygate webhooks"), action: .webhookDisabled,
            detail: "webhook endpoint \(job.endpointID) disabled: \(reason)")
    }

    private func record(_ job: WebhookJob, _ attempt: WebhookAttempt) async -> String? {
        // A failure to record leaves the lease to expire: the attempt is made again (at least once).
        let disabled = (try? await webhookStorage.completeWebhookDelivery(id: job.deliveryID, attempt: job.attempt, outcome: attempt)) ?? false
        metrics.webhookAttempt(attempt.delivered ? .delivered : attempt.nextAttemptAt == nil ? .failed : .retry)
        guard disabled else { return nil }
        switch attempt.endpoint {
        case .disable(let reason, _), .failing(_, let reason, _): return reason
        case .delivering, .unchanged: return nil
        }
    }

    /// Keeps every backlog within ``WebhookSettings/maxPendingPerEndpoint`` and
    /// ``WebhookSettings/maxPendingPerOrganization``: the oldest pending deliveries beyond them fail, with the reason in
    /// the log (a receiver that is back gets them with "recover"). The delivery service runs it every few seconds.
    /// - Returns: how many failed.
    @discardableResult
    public func limitBacklog() async throws -> Int { try await webhookStorage.failExcessWebhookDeliveries(limits: pendingLimits, at: now()) }

    /// Housekeeping: forgets finished deliveries after 30 days (the log a page shows is the latest 50 per endpoint).
    public func pruneWebhookLog() async throws {
        _ = try await webhookStorage.pruneWebhookLog(before: now().addingTimeInterval(-30 * 86_400))
    }

    static func eventTypes(_ events: [WebhookEventType]?) -> [WebhookEventType] {
        let chosen = (events ?? []).filter { $0 != .test }
        return chosen.isEmpty ? WebhookEventType.subscribable : WebhookEventType.subscribable.filter(chosen.contains)
    }

}

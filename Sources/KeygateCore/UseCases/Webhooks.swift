import Foundation

// Lifecycle webhooks: an organization's endpoints (admins with key write access manage them, key readers see them),
// test events and retries, and the delivery of due events (any server; the store's lease keeps two from sending the
// same attempt at once).

/// How webhooks behave. Configuration keys (read by the executable): `webhooks.allowHTTP` (false),
/// `webhooks.allowPrivateTargets` (false), `webhooks.timeoutSeconds` (10), `webhooks.retryBaseSeconds` (30),
/// `webhooks.retryHours` (24), `webhooks.secretOverlapHours` (24).
public struct WebhookSettings: Sendable {
    /// Which target URLs are allowed (https and public addresses by default).
    public var policy: WebhookRules.TargetPolicy
    /// A receiver that has not answered within this is a failed attempt.
    public var timeout: TimeInterval
    /// The first retry's delay; each next one doubles, at most an hour.
    public var retryBase: TimeInterval
    /// After this long since the event, a delivery that never got a 2xx is failed.
    public var giveUpAfter: TimeInterval
    /// How long a rolled secret keeps signing next to the new one.
    public var secretOverlap: TimeInterval

    public init(
        policy: WebhookRules.TargetPolicy = .init(), timeout: TimeInterval = TimeInterval(ConfigKeys.webhooksTimeoutSeconds.defaultValue),
        retryBase: TimeInterval = TimeInterval(ConfigKeys.webhooksRetryBaseSeconds.defaultValue),
        giveUpAfter: TimeInterval = TimeInterval(ConfigKeys.webhooksRetryHours.defaultValue * 3600),
        secretOverlap: TimeInterval = TimeInterval(ConfigKeys.webhooksSecretOverlapHours.defaultValue * 3600)
    ) {
        self.policy = policy
        self.timeout = timeout
        self.retryBase = retryBase
        self.giveUpAfter = giveUpAfter
        self.secretOverlap = secretOverlap
    }
}

/// Sends one webhook request (HTTP lives outside Core).
public protocol WebhookSender: Sendable {
    /// POSTs `body` to `url`; never throws: a refusal, a timeout or a target that is not allowed is an `error`.
    func post(url: String, headers: [(String, String)], body: [UInt8], timeout: TimeInterval) async -> (statusCode: Int?, error: String?)
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
            draft, sealedSecret: sealed, limit: Self.maxWebhookEndpoints, audit: webhookAudit(principal, .webhookCreated, "webhook endpoint \(url)")
        )
        return (endpoint, secret)
    }

    /// Changes an endpoint's URL, event types or enabled flag. Requires ``AccessRules/Action/manageWebhooks``.
    public func updateWebhookEndpoint(
        _ principal: Principal, id: Int64, url: String?, events: [WebhookEventType]?, enabled: Bool?
    ) async throws -> WebhookEndpoint {
        var endpoint = try await webhookEndpoint(principal, id: id)
        try principal.require(.manageWebhooks)
        if let url { endpoint.url = try WebhookRules.validateURL(url, policy: webhooks.policy) }
        if let events { endpoint.events = Self.eventTypes(events) }
        if let enabled { endpoint.enabled = enabled }
        try await webhookStorage.updateWebhookEndpoint(endpoint, audit: webhookAudit(principal, .webhookUpdated, "webhook endpoint \(endpoint.id)"))
        return endpoint
    }

    /// Deletes an endpoint and its delivery log. Requires ``AccessRules/Action/manageWebhooks``.
    public func deleteWebhookEndpoint(_ principal: Principal, id: Int64) async throws {
        try principal.require(.manageWebhooks)
        guard
            try await webhookStorage.deleteWebhookEndpoint(
                orgID: principal.orgID, id: id, audit: webhookAudit(principal, .webhookDeleted, "webhook endpoint \(id)"))
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
            audit: webhookAudit(principal, .webhookSecretRolled, "webhook endpoint \(id)"))
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

    /// Claims the due deliveries (up to `limit`) and sends them at once, each signed with the endpoint's secrets.
    /// - Returns: how many were attempted.
    @discardableResult
    public func deliverDueWebhooks(sender: any WebhookSender, limit: Int = 20) async throws -> Int {
        let started = now()
        let jobs = try await webhookStorage.claimWebhookDeliveries(
            now: started, leaseUntil: started.addingTimeInterval(webhooks.timeout + 30), limit: limit)
        await withTaskGroup(of: Void.self) { group in
            for job in jobs { group.addTask { await deliver(job, sender: sender) } }
        }
        return jobs.count
    }

    private func deliver(_ job: WebhookJob, sender: any WebhookSender) async {
        let began = ContinuousClock.now
        var result: (statusCode: Int?, error: String?)
        do {
            let secrets = try await webhookStorage.webhookSecrets(endpointID: job.endpointID, at: now()).map {
                try cipher.openSecret($0, context: "webhook:\(job.orgID)")
            }
            let body = Array(job.payload.utf8)
            let timestamp = Int64(now().timeIntervalSince1970)
            let headers = [
                ("Content-Type", "application/json"), ("User-Agent", "Keygate-Webhooks/1"), ("Keygate-Event-Id", job.eventID),
                ("Keygate-Event-Type", job.eventType.rawValue), ("Keygate-Delivery-Attempt", "\(job.attempt)"),
                ("Keygate-Signature", WebhookRules.signature(secrets: secrets, timestamp: timestamp, body: body)),
            ]
            result = await sender.post(url: job.url, headers: headers, body: body, timeout: webhooks.timeout)
        } catch {
            result = (nil, "cannot sign: \(error)")
        }
        let delivered = result.statusCode.map { (200..<300).contains($0) } ?? false
        let at = now()
        let outcome = WebhookAttempt(
            at: at, statusCode: result.statusCode,
            error: result.error ?? (delivered ? nil : "the receiver answered \(result.statusCode ?? 0)"),
            durationMs: Int((ContinuousClock.now - began).nanoseconds / 1_000_000), delivered: delivered,
            nextAttemptAt: delivered
                ? nil
                : WebhookRules.nextAttempt(
                    after: job.attempt, eventAt: job.eventAt, now: at, base: webhooks.retryBase, giveUpAfter: webhooks.giveUpAfter))
        // A failure to record leaves the lease to expire: the attempt is made again (at least once).
        try? await webhookStorage.completeWebhookDelivery(id: job.deliveryID, attempt: job.attempt, outcome: outcome)
        metrics.webhookAttempt(delivered ? .delivered : outcome.nextAttemptAt == nil ? .failed : .retry)
    }

    /// Housekeeping: forgets finished deliveries after 30 days (the log a page shows is the latest 50 per endpoint).
    public func pruneWebhookLog() async throws {
        _ = try await webhookStorage.pruneWebhookLog(before: now().addingTimeInterval(-30 * 86_400))
    }

    static func eventTypes(_ events: [WebhookEventType]?) -> [WebhookEventType] {
        let chosen = (events ?? []).filter { $0 != .test }
        return chosen.isEmpty ? WebhookEventType.subscribable : WebhookEventType.subscribable.filter(chosen.contains)
    }

    private func webhookAudit(_ principal: Principal, _ action: AuditAction, _ detail: String) -> AuditEvent {
        AuditEvent(orgID: principal.orgID, at: now(), actor: principal.actor, action: action, detail: detail)
    }
}

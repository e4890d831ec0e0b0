import Foundation
import KeygateCore
import Testing

@testable import KeygateStorage

/// Delivering webhooks (`SQLKeygateStore+WebhookDelivery.swift`): fair claims, endpoint health, resend and recover,
/// backlog limits, on every backend.
@Suite("Storage contract: webhook delivery")
struct WebhookDeliveryContractTests {
    static func endpoint(_ store: SQLKeygateStore, _ org: ProvisionedOrganization, _ name: String) async throws -> WebhookEndpoint {
        try await store.insertWebhookEndpoint(
            WebhookEndpoint(
                id: 0, orgID: org.organization.id, url: "https://\(name).example/h", events: WebhookEventType.subscribable, enabled: true,
                createdAt: t0),
            sealedSecret: "v2:k:\(name)", limit: 50, audit: audit(org))
    }

    @discardableResult
    static func enqueue(_ store: SQLKeygateStore, _ endpoint: WebhookEndpoint, at: Date = t0) async throws -> Int64 {
        let id = WebhookPayload.newEventID()
        return try await store.enqueueWebhookTest(endpoint: endpoint, payload: "{}", eventID: id, at: at)
    }

    static func outcome(_ at: Date, delivered: Bool, next: Date? = nil, _ effect: WebhookAttempt.EndpointEffect) -> WebhookAttempt {
        WebhookAttempt(
            at: at, statusCode: delivered ? 200 : 500, error: delivered ? nil : "the receiver answered 500", durationMs: 1, delivered: delivered,
            nextAttemptAt: next, endpoint: effect)
    }

    @Test("claims take organizations in turn and give none more than its in-flight limit, across claims", arguments: Backend.available)
    func fairClaims(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let acme = try await provision(store, "Acme")
            let bravo = try await provision(store, "Bravo")
            let crowded = try await Self.endpoint(store, acme, "acme")
            let quiet = try await Self.endpoint(store, bravo, "bravo")
            for _ in 0..<10 { try await Self.enqueue(store, crowded) }
            try await Self.enqueue(store, quiet, at: t0.addingTimeInterval(1))  // queued after all of Acme's
            let lease = t0.addingTimeInterval(100)
            // Bravo's one event is in the first claim although Acme's ten are older; Acme gets its limit of 3.
            let first = try await store.claimWebhookDeliveries(now: t0.addingTimeInterval(2), leaseUntil: lease, limit: 5, perOrganization: 3)
            #expect(first.filter { $0.orgID == bravo.organization.id }.count == 1)
            #expect(first.filter { $0.orgID == acme.organization.id }.count == 3)
            // While those three are leased, Acme gets nothing more, on this server or another.
            #expect(try await store.claimWebhookDeliveries(now: t0.addingTimeInterval(3), leaseUntil: lease, limit: 5, perOrganization: 3).isEmpty)
            // One finishes: one more of Acme's can go.
            let done = try #require(first.first { $0.orgID == acme.organization.id })
            _ = try await store.completeWebhookDelivery(
                id: done.deliveryID, attempt: done.attempt, outcome: Self.outcome(t0.addingTimeInterval(4), delivered: true, .delivering))
            let next = try await store.claimWebhookDeliveries(now: t0.addingTimeInterval(5), leaseUntil: lease, limit: 5, perOrganization: 3)
            #expect(next.count == 1 && next[0].orgID == acme.organization.id)
            // Simultaneous claims (every lease has run out: Acme's nine and Bravo's one are due) never hand one
            // delivery out twice; whatever a racing claim skipped, the next claim takes.
            let leaseEnd = lease.addingTimeInterval(1)
            let claimed = await withTaskGroup(of: [Int64].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        (try? await store.claimWebhookDeliveries(
                            now: leaseEnd, leaseUntil: leaseEnd.addingTimeInterval(100), limit: 3, perOrganization: 10))?
                            .map(\.deliveryID) ?? []
                    }
                }
                return await group.reduce(into: [Int64]()) { $0 += $1 }
            }
            let rest = try await store.claimWebhookDeliveries(
                now: leaseEnd, leaseUntil: leaseEnd.addingTimeInterval(100), limit: 20, perOrganization: 20)
            let all = claimed + rest.map(\.deliveryID)
            #expect(Set(all).count == all.count && all.count == 10, "\(all)")
        }
    }

    @Test("an attempt's outcome: a failure starts the streak, a success ends it, an old streak or a 410 disables", arguments: Backend.available)
    func endpointHealth(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let org = try await provision(store)
            let hook = try await Self.endpoint(store, org, "hook")
            func attempt(_ at: Date, delivered: Bool, _ effect: WebhookAttempt.EndpointEffect) async throws -> Bool {
                try await Self.enqueue(store, hook, at: at)
                let job = try #require(
                    try await store.claimWebhookDeliveries(now: at, leaseUntil: at.addingTimeInterval(60), limit: 1, perOrganization: 5).first)
                return try await store.completeWebhookDelivery(
                    id: job.deliveryID, attempt: job.attempt, outcome: Self.outcome(at, delivered: delivered, effect))
            }
            let gone = AuditEvent(
                orgID: org.organization.id, at: t0, actor: .provider(name: "keygate webhooks"), action: .webhookDisabled, detail: "x")
            let day: TimeInterval = 86_400
            func failing(_ at: Date) -> WebhookAttempt.EndpointEffect {
                .failing(disableIfFailingSince: at.addingTimeInterval(-5 * day), reason: "every attempt failed for 5 days", audit: gone)
            }
            #expect(!(try await attempt(t0, delivered: false, failing(t0))))
            #expect(try await store.webhookEndpoint(orgID: org.organization.id, id: hook.id)?.failingSince == t0)
            #expect(!(try await attempt(t0.addingTimeInterval(day), delivered: false, failing(t0.addingTimeInterval(day)))))
            #expect(try await store.webhookEndpoint(orgID: org.organization.id, id: hook.id)?.failingSince == t0, "the streak's start stays")
            #expect(!(try await attempt(t0.addingTimeInterval(2 * day), delivered: true, .delivering)))
            #expect(try await store.webhookEndpoint(orgID: org.organization.id, id: hook.id)?.failingSince == nil)
            // A new streak: disabled at the first failure 5 days after it began, with the pending deliveries failed.
            let start = t0.addingTimeInterval(3 * day)
            #expect(!(try await attempt(start, delivered: false, failing(start))))
            let pending = try await Self.enqueue(store, hook, at: start.addingTimeInterval(6 * day))
            let late = start.addingTimeInterval(5 * day)
            #expect(try await attempt(late, delivered: false, failing(late)))
            let endpoint = try #require(try await store.webhookEndpoint(orgID: org.organization.id, id: hook.id))
            #expect(!endpoint.enabled && endpoint.disabledReason == "every attempt failed for 5 days")
            let log = try await store.webhookDeliveries(endpointID: hook.id, limit: 20)
            #expect(log.first { $0.id == pending }?.status == .failed)
            #expect(try await store.auditEvents(orgID: org.organization.id, actionPrefix: "webhook.disabled", limit: 10).count == 1)
            // Disabled already: a 410 now disables nothing more and writes no second event.
            #expect(!(try await attempt(late.addingTimeInterval(60), delivered: false, .disable(reason: "gone", audit: gone))))
            #expect(try await store.auditEvents(orgID: org.organization.id, actionPrefix: "webhook.disabled", limit: 10).count == 1)
        }
    }

    @Test(
        "resend and recover queue the same events again, within the pending limits; the backlog limit drops the oldest", arguments: Backend.available)
    func requeueAndLimits(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let org = try await provision(store)
            let hook = try await Self.endpoint(store, org, "hook")
            let limits = WebhookPendingLimits(perEndpoint: 3, perOrganization: 10)
            // Two deliveries fail for good.
            for _ in 0..<2 { try await Self.enqueue(store, hook) }
            for job in try await store.claimWebhookDeliveries(now: t0, leaseUntil: t0.addingTimeInterval(60), limit: 5, perOrganization: 5) {
                _ = try await store.completeWebhookDelivery(
                    id: job.deliveryID, attempt: job.attempt, outcome: Self.outcome(t0, delivered: false, .unchanged))
            }
            let failed = try await store.webhookDeliveries(endpointID: hook.id, limit: 10)
            #expect(failed.map(\.status) == [.failed, .failed])
            func requeue(_ selection: WebhookRequeue.Selection) async throws -> [Int64] {
                try await requeueResult(selection).queued
            }
            func requeueResult(_ selection: WebhookRequeue.Selection) async throws -> WebhookRequeueResult {
                try await store.requeueWebhookEvents(
                    WebhookRequeue(
                        endpointID: hook.id, orgID: org.organization.id, selection: selection, at: t0.addingTimeInterval(10), limits: limits,
                        audit: audit(org, .webhookResent)))
            }
            // Resend one: a new pending delivery of the same event.
            let resent = try await requeue(.delivery(failed[0].id))
            var log = try await store.webhookDeliveries(endpointID: hook.id, limit: 10)
            #expect(resent.count == 1 && log[0].id == resent[0] && log[0].status == .pending && log[0].eventID == failed[0].eventID)
            // Recover: only the event not already queued again; a second recover finds nothing.
            let recovered = try await requeue(.failedSince(t0))
            log = try await store.webhookDeliveries(endpointID: hook.id, limit: 10)
            #expect(recovered.count == 1 && log[0].eventID == failed[1].eventID)
            #expect(try await requeue(.failedSince(t0)).isEmpty)
            #expect(try await requeue(.failedSince(t0.addingTimeInterval(5))).isEmpty, "nothing failed since then")
            #expect(try await requeueResult(.delivery(987_654)) == WebhookRequeueResult(queued: [], matched: 0), "no such delivery: 404")
            // The endpoint's limit (3 pending): one more fits, then no room (matched, not queued: 409).
            try await Self.enqueue(store, hook)
            #expect(try await requeueResult(.delivery(failed[0].id)) == WebhookRequeueResult(queued: [], matched: 1))
            // Five more events: the oldest pending beyond the limit fail with the reason; the newest three stay.
            var newest: [Int64] = []
            for i in 0..<5 { newest.append(try await Self.enqueue(store, hook, at: t0.addingTimeInterval(Double(20 + i)))) }
            #expect(try await store.failExcessWebhookDeliveries(limits: limits, at: t0.addingTimeInterval(30)) == 5)
            log = try await store.webhookDeliveries(endpointID: hook.id, limit: 20)
            #expect(Set(log.filter { $0.status == .pending }.map(\.id)) == Set(newest.suffix(3)))
            #expect(log.filter { $0.lastError == WebhookPendingLimits.reachedText }.count == 5)
            #expect(try await store.failExcessWebhookDeliveries(limits: limits, at: t0.addingTimeInterval(31)) == 0)
            // The organization's limit counts every endpoint.
            let other = try await Self.endpoint(store, org, "other")
            for _ in 0..<3 { try await Self.enqueue(store, other) }
            #expect(
                try await store.failExcessWebhookDeliveries(
                    limits: WebhookPendingLimits(perEndpoint: 3, perOrganization: 4), at: t0.addingTimeInterval(32))
                    == 2)
        }
    }

    @Test(
        "a disabled endpoint gets no event but a test; disabling fails deliveries being sent, whose late outcome changes nothing; recover goes by the failure's time",
        arguments: Backend.available)
    func disabledAndLate(_ backend: Backend) async throws {
        try await withStore(backend) { _, store in
            let org = try await provision(store)
            let orgID = org.organization.id
            let hook = try await Self.endpoint(store, org, "hook")
            func keyEdit(_ version: Int64, at: Date) async throws {
                _ = try await store.applyKeyChange(
                    KeyChange(
                        orgID: orgID, operation: .replace(sealedValue: "v2:k:\(version)", expectedVersion: version), sessionEffect: .none,
                        actor: .provider(name: "p"), at: at, action: .keyEdited, detail: "edited"))
            }
            try await keyEdit(1, at: t0)
            let leased = try #require(
                try await store.claimWebhookDeliveries(now: t0, leaseUntil: t0.addingTimeInterval(60), limit: 5, perOrganization: 5).first)
            // Another event queues, then Keygate disables the endpoint while the first is being sent.
            try await keyEdit(2, at: t0.addingTimeInterval(1))
            let gone = AuditEvent(orgID: orgID, at: t0, actor: .provider(name: "keygate webhooks"), action: .webhookDisabled, detail: "gone")
            try await Self.enqueue(store, hook, at: t0.addingTimeInterval(2))
            let other = try #require(
                try await store.claimWebhookDeliveries(
                    now: t0.addingTimeInterval(2), leaseUntil: t0.addingTimeInterval(60), limit: 1, perOrganization: 5
                )
                .first)
            #expect(
                try await store.completeWebhookDelivery(
                    id: other.deliveryID, attempt: other.attempt,
                    outcome: Self.outcome(t0.addingTimeInterval(3), delivered: false, .disable(reason: "the receiver answered 410 Gone", audit: gone))
                ))
            var log = try await store.webhookDeliveries(endpointID: hook.id, limit: 10)
            #expect(log.allSatisfy { $0.status == .failed }, "the one being sent fails too")
            // Its outcome arrives late: it is no longer pending, so nothing changes and nothing is queued again.
            #expect(
                !(try await store.completeWebhookDelivery(
                    id: leased.deliveryID, attempt: leased.attempt,
                    outcome: Self.outcome(t0.addingTimeInterval(4), delivered: false, next: t0.addingTimeInterval(30), .unchanged))))
            log = try await store.webhookDeliveries(endpointID: hook.id, limit: 10)
            #expect(log.allSatisfy { $0.status == .failed })
            // Recover goes by when a delivery failed (the test event's attempt at t0+3), not when its event was made (t0+2).
            let since = t0.addingTimeInterval(2.5)
            let recovered = try await store.requeueWebhookEvents(
                WebhookRequeue(
                    endpointID: hook.id, orgID: orgID, selection: .failedSince(since), at: t0.addingTimeInterval(7),
                    limits: WebhookPendingLimits(perEndpoint: 10, perOrganization: 10), audit: audit(org, .webhookRecovered)))
            #expect(recovered.queued.count == 1 && recovered.matched == 1)

            // An endpoint an admin disabled keeps its pending deliveries unsent (a test event excepted) until enabled.
            let paused = try await Self.endpoint(store, org, "paused")
            try await keyEdit(3, at: t0.addingTimeInterval(8))
            try await store.updateWebhookEndpoint(orgID: orgID, id: paused.id, WebhookEndpointChange(enabled: false), audit: audit(org))
            let test = try await Self.enqueue(store, paused, at: t0.addingTimeInterval(8))
            let now = t0.addingTimeInterval(9)
            let claimed = try await store.claimWebhookDeliveries(now: now, leaseUntil: now.addingTimeInterval(60), limit: 10, perOrganization: 10)
            #expect(Set(claimed.filter { $0.endpointID == paused.id }.map(\.deliveryID)) == [test])
            try await store.updateWebhookEndpoint(orgID: orgID, id: paused.id, WebhookEndpointChange(enabled: true), audit: audit(org))
            let resumed = try await store.claimWebhookDeliveries(now: now, leaseUntil: now.addingTimeInterval(60), limit: 10, perOrganization: 10)
            #expect(resumed.filter { $0.endpointID == paused.id }.map(\.eventType) == [.keyEdited])
        }
    }
}

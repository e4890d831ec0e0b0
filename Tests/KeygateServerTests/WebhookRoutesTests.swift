import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateCore
import Synchronization
import Testing

/// What a receiver is sent, kept in memory: the delivery service's seam (``WebhookSender``). The real sender, over
/// HTTP to a real receiver, is `Tests/e2e/test_webhooks.py`'s; these tests are about the routes and the page.
final class RecordingSender: WebhookSender {
    struct Request: Sendable {
        let url: String
        let headers: [String: String]
        let body: [UInt8]
    }
    let requests = Mutex<[Request]>([])
    /// What the receiver answers.
    let status = Mutex(200)

    func post(url: String, headers: [(String, String)], body: [UInt8], timeout: TimeInterval) async -> WebhookSendResult {
        requests.withLock {
            $0.append(Request(url: url, headers: Dictionary(headers, uniquingKeysWith: { $1 }), body: body))
        }
        return .answered(status: status.withLock { $0 }, milliseconds: 1)
    }

    var sent: [Request] { requests.withLock { $0 } }
}

@Suite("Webhooks: the API routes and the portal page")
struct WebhookRoutesTests {
    static let hook = "https://hooks.example.com/keygate?team=ops"

    /// Whether one of the `webhook-signature` values verifies with `secret` as Standard Webhooks v1 says: HMAC-SHA256,
    /// keyed with the secret's base64 after `whsec_`, over `id.timestamp.body`. (The end-to-end test verifies with the
    /// reference library itself.)
    static func verifies(_ request: RecordingSender.Request, secret: String) -> Bool {
        guard let id = request.headers["webhook-id"], let timestamp = request.headers["webhook-timestamp"],
            let header = request.headers["webhook-signature"], let key = Data(base64Encoded: String(secret.dropFirst(6)))
        else { return false }
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).".utf8) + request.body, using: SymmetricKey(data: key))
        return header.split(separator: " ").contains { $0 == "v1," + Data(mac).base64EncodedString() }
    }

    @Test("create shows the secret once; an audited key change is one signed event; a failure is retried on request; roll and delete")
    func apiLifecycle() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness)
            let created = try await client.send(
                .post, "/api/v1/webhooks", session: session, json: ["url": Self.hook, "events": ["key.regenerated"]])
            #expect(created.status == .ok)
            let secret = try #require(created.object["secret"] as? String)
            let id = try #require(created.object["id"] as? Int)
            #expect(secret.hasPrefix("whsec_") && created.object["events"] as? [String] == ["key.regenerated"])
            let listed = try await client.send(.get, "/api/v1/webhooks", session: session)
            #expect(listed.array.count == 1 && listed.array[0]["secret"] == nil && listed.array[0]["url"] as? String == Self.hook)
            #expect(try await client.send(.get, "/api/v1/webhooks/\(id)", session: session).object["secret"] == nil)

            // Bad input: a clear error in the documented shape, and nothing stored.
            for body: [String: Any] in [
                ["url": "ftp://hooks.example.com/x"], ["url": Self.hook, "events": ["key.unknown"]], ["url": Self.hook, "colour": "red"],
            ] {
                let refused = try await client.send(.post, "/api/v1/webhooks", session: session, json: body)
                #expect(refused.status == .badRequest && refused.code == "INVALID_INPUT_ARGUMENT", "\(body)")
            }
            #expect(try await client.send(.get, "/api/v1/webhooks", session: session).array.count == 1)

            // A regenerate: exactly one event for this endpoint, signed with the secret shown at creation.
            let keyID = harness.org.key.id
            #expect(try await client.send(.post, "/api/v1/apiKeys/\(keyID)/regenerate", session: session).status == .ok)
            let receiver = RecordingSender()
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            let event = try #require(receiver.sent.first)
            #expect(event.url == Self.hook && event.headers["Keygate-Event-Type"] == "key.regenerated")
            #expect(Self.verifies(event, secret: secret) && !Self.verifies(event, secret: WebhookRules.newSecret()))
            #expect(event.headers["webhook-id"]?.hasPrefix("evt_") == true && event.headers["Keygate-Signature"] == nil)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 0, "delivered once")

            // A test event the receiver refuses: failed for now, then retried on request and delivered.
            receiver.status.withLock { $0 = 500 }
            let test = try await client.send(.post, "/api/v1/webhooks/\(id)/test", session: session)
            let deliveryID = try #require(test.object["deliveryId"] as? Int)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            var log = try await client.send(.get, "/api/v1/webhooks/\(id)/deliveries", session: session).array
            #expect(log.first?["id"] as? Int == deliveryID && log.first?["status"] as? String == "pending")
            #expect(log.first?["lastStatusCode"] as? Int == 500 && log.first?["attempts"] as? Int == 1)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 0, "the next attempt is 30 s away")
            let retry = "/api/v1/webhooks/\(id)/deliveries/\(deliveryID)/retry"
            #expect(try await client.send(.post, retry, session: session).status == .noContent)
            receiver.status.withLock { $0 = 200 }
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            log = try await client.send(.get, "/api/v1/webhooks/\(id)/deliveries", session: session).array
            #expect(log.map { $0["status"] as? String } == ["delivered", "delivered"])
            // A delivered one is not sent again: 404 in the error shape.
            let again = try await client.send(.post, retry, session: session)
            #expect(again.status == .notFound && again.code == "RESOURCE_NOT_FOUND")

            // Roll: the new secret is shown once, and both sign while the old one overlaps.
            let rolled = try await client.send(.post, "/api/v1/webhooks/\(id)/rollSecret", session: session)
            let newSecret = try #require(rolled.object["secret"] as? String)
            #expect(newSecret != secret && rolled.object["previousSecretValidUntil"] is Int)
            _ = try await client.send(.post, "/api/v1/webhooks/\(id)/test", session: session)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            let signedTwice = try #require(receiver.sent.last)
            #expect(Self.verifies(signedTwice, secret: newSecret) && Self.verifies(signedTwice, secret: secret))

            // Disable: no events; delete: gone, with its log.
            let disabled = try await client.send(.put, "/api/v1/webhooks/\(id)", session: session, json: ["enabled": false])
            #expect(disabled.status == .ok && disabled.object["enabled"] as? Bool == false)
            #expect(try await client.send(.post, "/api/v1/apiKeys/\(keyID)/regenerate", session: session).status == .ok)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 0)
            #expect(try await client.send(.delete, "/api/v1/webhooks/\(id)", session: session).status == .noContent)
            #expect(try await client.send(.get, "/api/v1/webhooks/\(id)", session: session).status == .notFound)
            #expect(try await client.send(.get, "/api/v1/webhooks/\(id)/deliveries", session: session).status == .notFound)
        }
    }

    @Test("resend and recover over the API: the same webhook-id again, what failed since a time, limits and bad input")
    func resendAndRecover() async throws {
        try await withServer { harness, client in
            var session = try await client.login(harness)
            let id = try #require(
                try await client.send(.post, "/api/v1/webhooks", session: session, json: ["url": Self.hook]).object["id"] as? Int)
            let receiver = RecordingSender()
            _ = try await client.send(.post, "/api/v1/webhooks/\(id)/test", session: session)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            let first = try #require(receiver.sent.last?.headers["webhook-id"])
            let delivered = try #require(
                try await client.send(.get, "/api/v1/webhooks/\(id)/deliveries", session: session).array.first?["id"] as? Int)
            // Resend a delivered one: a new delivery, the same event id.
            let resent = try await client.send(.post, "/api/v1/webhooks/\(id)/deliveries/\(delivered)/resend", session: session)
            #expect(resent.status == .ok && (resent.object["deliveryId"] as? Int ?? 0) > delivered)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            #expect(receiver.sent.last?.headers["webhook-id"] == first)
            let unknown = try await client.send(.post, "/api/v1/webhooks/\(id)/deliveries/987654/resend", session: session)
            #expect(unknown.status == .notFound && unknown.code == "RESOURCE_NOT_FOUND")

            // Two events fail for good (the retry period is over on the test clock); recover sends both again, once.
            receiver.status.withLock { $0 = 503 }
            let since = Int(harness.clock.now.timeIntervalSince1970)
            for _ in 0..<2 { _ = try await client.send(.post, "/api/v1/webhooks/\(id)/test", session: session) }
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 2)
            harness.clock.advance(25 * 3600)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 2)
            session = try await client.login(harness)  // the first one has idled out on the test clock
            var log = try await client.send(.get, "/api/v1/webhooks/\(id)/deliveries", session: session).array
            #expect(log.prefix(2).allSatisfy { $0["status"] as? String == "failed" && $0["lastError"] as? String == "the receiver answered 503" })
            receiver.status.withLock { $0 = 200 }
            let recovered = try await client.send(.post, "/api/v1/webhooks/\(id)/recover", session: session, json: ["since": since])
            #expect(recovered.status == .ok && recovered.object["queued"] as? Int == 2)
            let again = try await client.send(.post, "/api/v1/webhooks/\(id)/recover", session: session, json: ["since": since])
            #expect(again.object["queued"] as? Int == 0, "already queued again: not twice")
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 2)
            log = try await client.send(.get, "/api/v1/webhooks/\(id)/deliveries", session: session).array
            #expect(log.prefix(2).allSatisfy { $0["status"] as? String == "delivered" })
            let trail = try await harness.keygate.audit.auditTrail(
                harness.keygate.commandLineProvider(operator: "t"), orgID: harness.orgID, actionPrefix: "webhook.re")
            #expect(Set(trail.map(\.action)) == ["webhook.resent", "webhook.recovered"])

            for body: [String: Any] in [[:], ["since": "yesterday"], ["since": -1], ["since": since, "until": 5]] {
                let refused = try await client.send(.post, "/api/v1/webhooks/\(id)/recover", session: session, json: body)
                #expect(refused.status == .badRequest && refused.code == "INVALID_INPUT_ARGUMENT", "\(body)")
            }
            let future = try await client.send(
                .post, "/api/v1/webhooks/\(id)/recover", session: session, json: ["since": Int(harness.clock.now.timeIntervalSince1970) + 3600])
            #expect(future.status == .badRequest)
        }
    }

    @Test("a receiver that answers 410 Gone disables its endpoint, with the reason on the API, the page and the trail")
    func goneDisables() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness)
            let id = try #require(
                try await client.send(.post, "/api/v1/webhooks", session: session, json: ["url": Self.hook]).object["id"] as? Int)
            let receiver = RecordingSender()
            receiver.status.withLock { $0 = 410 }
            for _ in 0..<3 { _ = try await client.send(.post, "/api/v1/webhooks/\(id)/test", session: session) }
            // The first answer disables it; the two still pending fail with it instead of reaching a receiver that said gone.
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver, limit: 1) == 1)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 0)
            let endpoint = try await client.send(.get, "/api/v1/webhooks/\(id)", session: session).object
            #expect(endpoint["enabled"] as? Bool == false && endpoint["disabledReason"] as? String == "the receiver answered 410 Gone")
            let log = try await client.send(.get, "/api/v1/webhooks/\(id)/deliveries", session: session).array
            #expect(log.map { $0["status"] as? String } == ["failed", "failed", "failed"] && receiver.sent.count == 1)
            let trail = try await harness.keygate.audit.auditTrail(
                harness.keygate.commandLineProvider(operator: "t"), orgID: harness.orgID, actionPrefix: "webhook.disabled")
            #expect(trail.count == 1 && trail[0].actor.name == "keygate webhooks" && trail[0].detail.contains("410 Gone"))
            let cookie = try await PortalTests.signIn(client)
            let page = try await client.send(.get, "/portal/orgs/\(harness.orgID)/webhooks", headers: [.cookie: "kg_portal=\(cookie)"])
            #expect(page.text.contains("Disabled by Keygate: the receiver answered 410 Gone"))
            // Enabled again by an admin: the reason is gone.
            let enabled = try await client.send(.put, "/api/v1/webhooks/\(id)", session: session, json: ["enabled": true])
            #expect(enabled.object["enabled"] as? Bool == true && enabled.object["disabledReason"] == nil)
        }
    }

    @Test("an endpoint that fails every attempt for the configured days is disabled; one success ends the streak")
    func failingForDays() async throws {
        try await withServer { harness, client in
            var session = try await client.login(harness)
            let id = try #require(
                try await client.send(.post, "/api/v1/webhooks", session: session, json: ["url": Self.hook]).object["id"] as? Int)
            let receiver = RecordingSender()
            receiver.status.withLock { $0 = 500 }
            _ = try await client.send(.post, "/api/v1/webhooks/\(id)/test", session: session)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            var endpoint = try await client.send(.get, "/api/v1/webhooks/\(id)", session: session).object
            #expect(endpoint["failingSince"] is Int && endpoint["enabled"] as? Bool == true)
            // A success ends the streak.
            receiver.status.withLock { $0 = 200 }
            harness.clock.advance(3600)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            session = try await client.login(harness)
            endpoint = try await client.send(.get, "/api/v1/webhooks/\(id)", session: session).object
            #expect(endpoint["failingSince"] == nil)
            // Failing from now: still enabled after 4 days, disabled at the first failure 5 days on.
            receiver.status.withLock { $0 = 500 }
            for day in 0...5 {
                _ = try await client.send(.post, "/api/v1/webhooks/\(id)/test", session: session)
                #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) >= 1)
                endpoint = try await client.send(.get, "/api/v1/webhooks/\(id)", session: session).object
                #expect(endpoint["enabled"] as? Bool == (day < 5), "day \(day)")
                harness.clock.advance(86_400)
                session = try await client.login(harness)
            }
            #expect(endpoint["disabledReason"] as? String == "every attempt failed for 5 days")
        }
    }

    @Test("the page lists endpoints and deliveries; Resend sends a finished delivery again; Recover sends again what failed")
    func portalPage() async throws {
        try await withServer { harness, client in
            var cookie = try await PortalTests.signIn(client)
            let page = "/portal/orgs/\(harness.orgID)/webhooks"
            var html = try await client.send(.get, page, headers: [.cookie: "kg_portal=\(cookie)"])
            #expect(html.status == .ok && html.text.contains(#"id="no-endpoints""#))
            let created = try await client.form(
                .post, page, ["url": Self.hook, "event.key.regenerated": "on", "csrf": try PortalTests.csrf(html)], cookie: cookie)
            #expect(created.status == .ok && created.text.contains("whsec_"), "the secret is shown once, on the answer")
            html = try await client.send(.get, page, headers: [.cookie: "kg_portal=\(cookie)"])
            #expect(!html.text.contains("whsec_") && html.text.contains("hooks.example.com"))
            let endpoint = try #require(html.text.firstMatch(of: /data-endpoint="(\d+)"/)?.1)

            _ = try await client.form(.post, "\(page)/\(endpoint)/test", ["csrf": try PortalTests.csrf(html)], cookie: cookie)
            let receiver = RecordingSender()
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            html = try await client.send(.get, page, headers: [.cookie: "kg_portal=\(cookie)"])
            let delivery = try #require(html.text.firstMatch(of: /data-delivery="(\d+)"/)?.1)
            #expect(html.text.contains("webhook.test") && html.text.contains("Delivered") && html.text.contains(#"id="resend-\#(delivery)""#))

            // Resend a delivered one: a new row, the same webhook-id.
            let resent = try await client.form(
                .post, "\(page)/\(endpoint)/deliveries/\(delivery)/resend", ["csrf": try PortalTests.csrf(html)], cookie: cookie)
            #expect(resent.status == .seeOther && resent.headers[.location] == "\(page)?done=resent")
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            #expect(receiver.sent.count == 2 && receiver.sent[0].headers["webhook-id"] == receiver.sent[1].headers["webhook-id"])

            // A failed one (its retry period over on the test clock), recovered from the page.
            receiver.status.withLock { $0 = 500 }
            _ = try await client.form(.post, "\(page)/\(endpoint)/test", ["csrf": try PortalTests.csrf(html)], cookie: cookie)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            harness.clock.advance(2 * 3600)
            cookie = try await PortalTests.signIn(client)  // the first one has idled out on the test clock
            html = try await client.send(.get, page, headers: [.cookie: "kg_portal=\(cookie)"])
            #expect(html.text.contains("Every attempt has failed since"))
            harness.clock.advance(23 * 3600)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            receiver.status.withLock { $0 = 200 }
            cookie = try await PortalTests.signIn(client)
            html = try await client.send(.get, page, headers: [.cookie: "kg_portal=\(cookie)"])
            let recovered = try await client.form(
                .post, "\(page)/\(endpoint)/recover", ["hours": "120", "csrf": try PortalTests.csrf(html)], cookie: cookie)
            #expect(recovered.status == .seeOther && recovered.headers[.location] == "\(page)?done=recovered&count=1")
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            // Sent: the first test, its resend, the failing one twice (its retry period then over), and its recovery.
            #expect(receiver.sent.last?.headers["Keygate-Event-Type"] == "webhook.test" && receiver.sent.count == 5)
            let notice = try await client.send(.get, "\(page)?done=recovered&count=1", headers: [.cookie: "kg_portal=\(cookie)"])
            #expect(notice.text.contains("1 failed deliveries will be sent again now"))
            // A period the page does not offer, or a delivery the endpoint does not have: refused.
            let odd = try await client.form(.post, "\(page)/\(endpoint)/recover", ["hours": "7", "csrf": try PortalTests.csrf(html)], cookie: cookie)
            #expect(odd.status == .badRequest)
            let unknown = try await client.form(
                .post, "\(page)/\(endpoint)/deliveries/987654/resend", ["csrf": try PortalTests.csrf(html)], cookie: cookie)
            #expect(unknown.status == .notFound)
        }
    }
}

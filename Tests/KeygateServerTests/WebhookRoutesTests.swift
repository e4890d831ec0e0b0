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

    func post(url: String, headers: [(String, String)], body: [UInt8], timeout: TimeInterval) async -> (statusCode: Int?, error: String?) {
        requests.withLock {
            $0.append(Request(url: url, headers: Dictionary(headers, uniquingKeysWith: { $1 }), body: body))
        }
        return (status.withLock { $0 }, nil)
    }

    var sent: [Request] { requests.withLock { $0 } }
}

@Suite("Webhooks: the API routes and the portal page")
struct WebhookRoutesTests {
    static let hook = "https://hooks.example.com/keygate?team=ops"

    /// The `v1=` signatures of a `Keygate-Signature` header that verify with `secret` over `t.body`.
    static func verifies(_ request: RecordingSender.Request, secret: String) -> Bool {
        guard let header = request.headers["Keygate-Signature"] else { return false }
        let parts = header.split(separator: ",")
        guard let t = parts.first(where: { $0.hasPrefix("t=") })?.dropFirst(2) else { return false }
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(t).".utf8) + request.body, using: SymmetricKey(data: Array(secret.utf8)))
        return parts.contains("v1=" + Secrets.hex(mac))
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
            #expect(Self.verifies(event, secret: secret) && !Self.verifies(event, secret: "whsec_" + String(repeating: "0", count: 64)))
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

    @Test("the page lists endpoints and deliveries; a retry of a delivery already delivered returns to the page with a notice")
    func portalPage() async throws {
        try await withServer { harness, client in
            let cookie = try await PortalTests.signIn(client)
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
            #expect(html.text.contains("webhook.test") && html.text.contains("Delivered"))

            // The button of a row that was delivered meanwhile (an automatic retry won the race): back to the page.
            let retried = try await client.form(
                .post, "\(page)/\(endpoint)/deliveries/\(delivery)/retry", ["csrf": try PortalTests.csrf(html)], cookie: cookie)
            #expect(retried.status == .seeOther && retried.headers[.location] == "\(page)?done=not-retried")
            let notice = try await client.send(.get, "\(page)?done=not-retried", headers: [.cookie: "kg_portal=\(cookie)"])
            #expect(notice.text.contains("That delivery was not sent again"))
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 0, "a delivered one is not queued again")
            #expect(receiver.sent.count == 1)

            // A failed one: the button makes it due now (its next automatic attempt is 30 s away on the test clock).
            receiver.status.withLock { $0 = 500 }
            _ = try await client.form(.post, "\(page)/\(endpoint)/test", ["csrf": try PortalTests.csrf(html)], cookie: cookie)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 0)
            html = try await client.send(.get, page, headers: [.cookie: "kg_portal=\(cookie)"])
            let failed = try #require(html.text.firstMatch(of: /data-delivery="(\d+)"/)?.1)
            #expect(failed != delivery)
            receiver.status.withLock { $0 = 200 }
            let due = try await client.form(
                .post, "\(page)/\(endpoint)/deliveries/\(failed)/retry", ["csrf": try PortalTests.csrf(html)], cookie: cookie)
            #expect(due.status == .seeOther && due.headers[.location] == "\(page)?done=retry")
            #expect(try await harness.keygate.webhooks.deliverDueWebhooks(sender: receiver) == 1)
            #expect(receiver.sent.last?.headers["Keygate-Event-Type"] == "webhook.test" && receiver.sent.count == 3)
            // A delivery the endpoint does not have is not a race: 404.
            let unknown = try await client.form(
                .post, "\(page)/\(endpoint)/deliveries/987654/retry", ["csrf": try PortalTests.csrf(html)], cookie: cookie)
            #expect(unknown.status == .notFound)
        }
    }
}

import Foundation
import Hummingbird
import KeygateCore

/// `/webhooks`: Keygate's own routes for an organization's lifecycle webhooks (Zscaler's API has none). Reading needs
/// `READ_ONLY` on API key management, changing needs `READ_WRITE`, like the key itself.
struct WebhookController {
    let keygate: Keygate

    func addRoutes(to group: RouterGroup<APIContext>) {
        group.get("webhooks") { _, context in try jsonResponse(try await keygate.webhooks.webhookEndpoints(context.principal).map { EndpointDTO($0) })
        }
        group.post("webhooks") { request, context in
            let input = try await JSONBody.decode(NewWebhookInput.self, request, context: context)
            let (endpoint, secret) = try await keygate.webhooks.createWebhookEndpoint(
                context.principal, url: input.url, events: input.events, enabled: input.enabled)
            return try jsonResponse(EndpointDTO(endpoint, secret: secret))
        }
        group.get("webhooks/{id}") { request, context in
            try jsonResponse(EndpointDTO(try await keygate.webhooks.webhookEndpoint(context.principal, id: try request.pathID(context, "webhook"))))
        }
        group.put("webhooks/{id}") { request, context in
            let id = try request.pathID(context, "webhook")
            let input = try await JSONBody.decode(WebhookUpdateInput.self, request, context: context)
            if let bodyID = input.id, bodyID != id { throw KeygateError.invalidInput("id in the body differs from the path") }
            let endpoint = try await keygate.webhooks.updateWebhookEndpoint(
                context.principal, id: id, url: input.url, events: input.events, enabled: input.enabled)
            return try jsonResponse(EndpointDTO(endpoint))
        }
        group.delete("webhooks/{id}") { request, context in
            try await keygate.webhooks.deleteWebhookEndpoint(context.principal, id: try request.pathID(context, "webhook"))
            return noContent()
        }
        group.post("webhooks/{id}/rollSecret") { request, context in
            let id = try request.pathID(context, "webhook")
            _ = try await JSONBody.decode(NoInput.self, request, context: context)
            let (endpoint, secret) = try await keygate.webhooks.rollWebhookSecret(context.principal, id: id)
            return try jsonResponse(EndpointDTO(endpoint, secret: secret))
        }
        group.post("webhooks/{id}/test") { request, context in
            let id = try request.pathID(context, "webhook")
            _ = try await JSONBody.decode(NoInput.self, request, context: context)
            return try jsonResponse(["deliveryId": try await keygate.webhooks.sendTestWebhook(context.principal, id: id)])
        }
        group.get("webhooks/{id}/deliveries") { request, context in
            let deliveries = try await keygate.webhooks.webhookDeliveries(context.principal, id: try request.pathID(context, "webhook"))
            return try jsonResponse(deliveries.map(DeliveryDTO.init))
        }
        group.post("webhooks/{id}/deliveries/{deliveryId}/retry") { request, context in
            let id = try request.pathID(context, "webhook")
            let delivery = try request.pathID(context, "delivery", parameter: "deliveryId")
            _ = try await JSONBody.decode(NoInput.self, request, context: context)
            guard try await keygate.webhooks.retryWebhookDelivery(context.principal, endpointID: id, deliveryID: delivery) else {
                throw KeygateError.notFound("no delivery \(delivery) to retry (a delivered one, or one being sent now, is not sent again)")
            }
            return noContent()
        }
        group.post("webhooks/{id}/deliveries/{deliveryId}/resend") { request, context in
            let id = try request.pathID(context, "webhook")
            let delivery = try request.pathID(context, "delivery", parameter: "deliveryId")
            _ = try await JSONBody.decode(NoInput.self, request, context: context)
            return try jsonResponse(
                ["deliveryId": try await keygate.webhooks.resendWebhookDelivery(context.principal, endpointID: id, deliveryID: delivery)])
        }
        group.post("webhooks/{id}/recover") { request, context in
            let id = try request.pathID(context, "webhook")
            let input = try await JSONBody.decode(RecoverWebhookInput.self, request, context: context)
            return try jsonResponse([
                "queued": try await keygate.webhooks.recoverWebhookDeliveries(context.principal, endpointID: id, since: input.since)
            ])
        }
    }

    /// An endpoint; `secret` only in the answer that makes or rolls it.
    struct EndpointDTO: Encodable {
        let id: Int64
        let url: String
        let events: [String]
        let enabled: Bool
        let createdAt: Int64
        let previousSecretValidUntil: Int64?
        /// Why Keygate disabled it (`410 Gone`, or failing for days); absent otherwise.
        let disabledReason: String?
        /// Since when (epoch seconds) every attempt has failed; absent while it delivers.
        let failingSince: Int64?
        let secret: String?

        init(_ endpoint: WebhookEndpoint, secret: String? = nil) {
            self.id = endpoint.id
            self.url = endpoint.url
            self.events = endpoint.events.map(\.rawValue)
            self.enabled = endpoint.enabled
            self.createdAt = Int64(endpoint.createdAt.timeIntervalSince1970)
            self.previousSecretValidUntil = endpoint.previousSecretUntil.map { Int64($0.timeIntervalSince1970) }
            self.disabledReason = endpoint.disabledReason
            self.failingSince = endpoint.failingSince.map { Int64($0.timeIntervalSince1970) }
            self.secret = secret
        }
    }

    struct DeliveryDTO: Encodable {
        let id: Int64
        let eventId: String
        let eventType: String
        let status: String
        let attempts: Int
        let nextAttemptAt: Int64?
        let lastAttemptAt: Int64?
        let lastStatusCode: Int?
        let lastError: String?
        let lastDurationMs: Int?
        let createdAt: Int64

        init(_ d: WebhookDelivery) {
            self.id = d.id
            self.eventId = d.eventID
            self.eventType = d.eventType.rawValue
            self.status = d.status.rawValue
            self.attempts = d.attempts
            self.nextAttemptAt = d.status == .pending ? d.nextAttemptAt.map { Int64($0.timeIntervalSince1970) } : nil
            self.lastAttemptAt = d.lastAttemptAt.map { Int64($0.timeIntervalSince1970) }
            self.lastStatusCode = d.lastStatusCode
            self.lastError = d.lastError
            self.lastDurationMs = d.lastDurationMs
            self.createdAt = Int64(d.createdAt.timeIntervalSince1970)
        }
    }
}

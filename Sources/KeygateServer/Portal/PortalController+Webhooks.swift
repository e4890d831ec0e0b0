import Foundation
import Hummingbird
import KeygateCore

// The Webhooks page of an organization: endpoints with their delivery logs; add, send a test event, roll the secret,
// enable or disable, delete, retry a delivery. Key readers see it; key writers change it (as with the key).

extension PortalController {
    func addWebhookRoutes(to organization: RouterGroup<PortalContext>) {
        organization.get("webhooks", use: webhooksPage)
        organization.post("webhooks", use: createWebhook)
        organization.post("webhooks/{id}/{action}", use: webhookAction)
        organization.post("webhooks/{id}/deliveries/{deliveryID}/retry", use: retryWebhook)
    }

    @Sendable func webhooksPage(_ request: Request, context: PortalContext) async throws -> Response {
        var done: String?
        switch request.uri.queryParameters["done"] {
        case "test": done = "A test event is on its way; its delivery shows below."
        case "toggled": done = "The endpoint was saved."
        case "deleted": done = "The endpoint and its delivery log were deleted."
        case "retry": done = "The delivery will be tried again now."
        case "not-retried": done = "That delivery was not sent again: it was delivered, or is being sent right now (see its status below)."
        default: break
        }
        return try await renderWebhooks(request, context: context) { $0.done = done }
    }

    func renderWebhooks(
        _ request: Request, context: PortalContext, status: HTTPResponse.Status = .ok, adjust: (inout WebhooksPage) -> Void
    ) async throws -> Response {
        let (visit, snapshot) = (context.visit, context.session)
        let frame = try organizationChrome(visit, snapshot, request: request, tab: .webhooks)
        let principal = snapshot.principal
        var endpoints: [WebhooksPage.Endpoint] = []
        for endpoint in try await keygate.webhooks.webhookEndpoints(principal) {
            let deliveries = try await keygate.webhooks.webhookDeliveries(principal, id: endpoint.id, limit: 20).map { d in
                WebhooksPage.Delivery(
                    id: d.id, endpointID: endpoint.id, eventType: d.eventType.rawValue, status: d.status.rawValue.capitalized,
                    attempts: d.attempts, lastTry: d.lastAttemptAt.map(Self.iso) ?? "-",
                    nextTry: d.status == .pending ? d.nextAttemptAt.map(Self.iso) ?? "-" : "-",
                    response: d.lastStatusCode.map(String.init) ?? d.lastError ?? "-",
                    time: d.lastDurationMs.map { "\($0) ms" } ?? "-", retryable: d.status != .delivered)
            }
            endpoints.append(
                WebhooksPage.Endpoint(
                    id: endpoint.id, url: endpoint.url,
                    events: endpoint.events.count == WebhookEventType.subscribable.count
                        ? "all" : endpoint.events.map(\.rawValue).joined(separator: ", "),
                    enabled: endpoint.enabled, created: Self.iso(endpoint.createdAt),
                    overlapUntil: endpoint.previousSecretUntil.flatMap { $0 > keygate.now() ? Self.iso($0) : nil }, deliveries: deliveries,
                    hasDeliveries: !deliveries.isEmpty))
        }
        var page = WebhooksPage(
            chrome: frame, orgID: snapshot.session.orgID, orgName: snapshot.organizationName,
            canWrite: AccessRules.allows(snapshot.role, .manageWebhooks), endpoints: endpoints, hasEndpoints: !endpoints.isEmpty,
            eventChoices: WebhookEventType.subscribable.map { Choice(value: $0.rawValue, label: $0.rawValue, selected: false) })
        adjust(&page)
        return views.page(page, status: status)
    }

    @Sendable func createWebhook(_ request: Request, context: PortalContext) async throws -> Response {
        let form = try await PortalRequest.checkedForm(NewWebhookForm.self, request, context: context)
        do {
            let (endpoint, secret) = try await keygate.webhooks.createWebhookEndpoint(
                context.session.principal, url: form.url ?? "", events: form.events)
            return try await renderWebhooks(request, context: context) { page in
                page.done = "The endpoint was added."
                page.secret = secret
                page.secretEndpoint = endpoint.id
            }
        } catch let error as KeygateError {
            return try await renderWebhooks(request, context: context, status: error.http.status) { page in
                page.pageError = error.http.message
                page.formURL = form.url
            }
        }
    }

    @Sendable func webhookAction(_ request: Request, context: PortalContext) async throws -> Response {
        _ = try await PortalRequest.checkedForm(TokenOnlyForm.self, request, context: context)
        let principal = context.session.principal
        guard let id = context.parameters.get("id", as: Int64.self) else { throw KeygateError.notFound("no such webhook") }
        let base = "/portal/orgs/\(context.session.session.orgID)/webhooks"
        switch context.parameters.get("action") {
        case "test":
            _ = try await keygate.webhooks.sendTestWebhook(principal, id: id)
            return PortalViews.redirect(base + "?done=test")
        case "roll":
            let (_, secret) = try await keygate.webhooks.rollWebhookSecret(principal, id: id)
            return try await renderWebhooks(request, context: context) { page in
                page.done = "The secret was rolled; the previous one keeps signing for a while, so receivers can switch."
                page.secret = secret
                page.secretEndpoint = id
            }
        case let action? where action == "enable" || action == "disable":
            // The state asked for, not a flip of the one read: two clicks from two pages cannot undo each other.
            _ = try await keygate.webhooks.updateWebhookEndpoint(principal, id: id, url: nil, events: nil, enabled: action == "enable")
            return PortalViews.redirect(base + "?done=toggled")
        case "delete":
            try await keygate.webhooks.deleteWebhookEndpoint(principal, id: id)
            return PortalViews.redirect(base + "?done=deleted")
        default:
            throw KeygateError.notFound("no such action")
        }
    }

    @Sendable func retryWebhook(_ request: Request, context: PortalContext) async throws -> Response {
        _ = try await PortalRequest.checkedForm(TokenOnlyForm.self, request, context: context)
        guard let id = context.parameters.get("id", as: Int64.self), let delivery = context.parameters.get("deliveryID", as: Int64.self) else {
            throw KeygateError.notFound("no such delivery")
        }
        // Back to the page either way: a delivery that an automatic retry delivered (or is sending) a moment before the
        // click is no error to the person who clicked, and the log below says what happened.
        let retried = try await keygate.webhooks.retryWebhookDelivery(context.session.principal, endpointID: id, deliveryID: delivery)
        return PortalViews.redirect("/portal/orgs/\(context.session.session.orgID)/webhooks?done=\(retried ? "retry" : "not-retried")")
    }
}

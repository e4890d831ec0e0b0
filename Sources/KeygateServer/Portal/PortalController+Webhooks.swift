import Foundation
import Hummingbird
import KeygateCore

// The Webhooks page of an organization: endpoints with their delivery logs; add, send a test event, roll the secret,
// enable or disable, delete, resend a delivery, recover what failed. Key readers see it; key writers change it (as with
// the key).

extension PortalController {
    func addWebhookRoutes(to organization: RouterGroup<PortalContext>) {
        organization.get("webhooks", use: webhooksPage)
        organization.post("webhooks", use: createWebhook)
        organization.post("webhooks/{id}/recover", use: recoverWebhook)
        organization.post("webhooks/{id}/{action}", use: webhookAction)
        organization.post("webhooks/{id}/deliveries/{deliveryID}/resend", use: resendWebhook)
    }

    @Sendable func webhooksPage(_ request: Request, context: PortalContext) async throws -> Response {
        var done: String?
        switch request.uri.queryParameters["done"] {
        case "test": done = "A test event is on its way; its delivery shows below."
        case "toggled": done = "The endpoint was saved."
        case "deleted": done = "The endpoint and its delivery log were deleted."
        case "resent": done = "The event will be sent again now, with the same webhook-id; the new delivery shows below."
        case "recovered":
            let count = Int(request.uri.queryParameters["count"] ?? "") ?? 0
            done = count == 0 ? "No failed delivery to send again in that period." : "\(count) failed deliveries will be sent again now."
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
                    time: d.lastDurationMs.map { "\($0) ms" } ?? "-", resendable: d.status != .pending)
            }
            endpoints.append(
                WebhooksPage.Endpoint(
                    id: endpoint.id, url: endpoint.url,
                    events: endpoint.events.count == WebhookEventType.subscribable.count
                        ? "all" : endpoint.events.map(\.rawValue).joined(separator: ", "),
                    enabled: endpoint.enabled, created: Self.iso(endpoint.createdAt),
                    overlapUntil: endpoint.previousSecretUntil.flatMap { $0 > keygate.now() ? Self.iso($0) : nil },
                    disabledReason: endpoint.enabled ? nil : endpoint.disabledReason,
                    failingSince: endpoint.enabled ? endpoint.failingSince.map(Self.iso) : nil, deliveries: deliveries,
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

    @Sendable func resendWebhook(_ request: Request, context: PortalContext) async throws -> Response {
        _ = try await PortalRequest.checkedForm(TokenOnlyForm.self, request, context: context)
        guard let id = context.parameters.get("id", as: Int64.self), let delivery = context.parameters.get("deliveryID", as: Int64.self) else {
            throw KeygateError.notFound("no such delivery")
        }
        _ = try await keygate.webhooks.resendWebhookDelivery(context.session.principal, endpointID: id, deliveryID: delivery)
        return PortalViews.redirect("/portal/orgs/\(context.session.session.orgID)/webhooks?done=resent")
    }

    @Sendable func recoverWebhook(_ request: Request, context: PortalContext) async throws -> Response {
        let form = try await PortalRequest.checkedForm(RecoverWebhookForm.self, request, context: context)
        guard let id = context.parameters.get("id", as: Int64.self) else { throw KeygateError.notFound("no such webhook") }
        guard let hours = form.hours?.value, Self.recoverPeriods.contains(where: { $0.hours == hours }) else {
            throw KeygateError.invalidInput("choose how far back to recover")
        }
        let count = try await keygate.webhooks.recoverWebhookDeliveries(
            context.session.principal, endpointID: id, since: keygate.now().addingTimeInterval(-Double(hours) * 3600))
        return PortalViews.redirect("/portal/orgs/\(context.session.session.orgID)/webhooks?done=recovered&count=\(count)")
    }

    /// The periods the page offers to recover (the log keeps 30 days).
    static let recoverPeriods: [(hours: Int64, label: String)] = [(1, "hour"), (24, "24 hours"), (120, "5 days"), (720, "30 days")]
}

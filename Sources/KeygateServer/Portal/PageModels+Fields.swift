// The names each view model shows its template, read without reflection (``TemplateValue``). One line per stored
// property the templates may use: a property a template names but this list lacks fails
// `TemplateTests` (Tests/KeygateServerTests), and a misspelt property here is a compile error.

import Foundation

extension PortalChrome: TemplateValue {
    static let fields: [String: @Sendable (PortalChrome) -> Any?] = [
        "signedIn": { $0.signedIn },
        "csrf": { $0.csrf },
        "userName": { $0.userName },
        "orgCount": { $0.orgCount },
        "orgs": { $0.orgs },
        "nav": { $0.nav },
        "navKeys": { $0.navKeys },
        "navAdmins": { $0.navAdmins },
        "navRoles": { $0.navRoles },
        "navAudit": { $0.navAudit },
        "navWebhooks": { $0.navWebhooks },
        "orgID": { $0.orgID.map { $0 as Any } },
        "console": { $0.console },
    ]
    static var nested: [any TemplateValue.Type] { [OrganizationOption.self] }
}

extension OrganizationOption: TemplateValue {
    static let fields: [String: @Sendable (OrganizationOption) -> Any?] = [
        "id": { $0.id },
        "name": { $0.name },
        "current": { $0.current },
    ]
}

extension MessagePage {
    var template: Template { .message }
    static let fields: [String: @Sendable (MessagePage) -> Any?] = [
        "title": { $0.title },
        "heading": { $0.heading },
        "text": { $0.text },
        "link": { $0.link.map { $0 as Any } },
    ]
    static var nested: [any TemplateValue.Type] { [MessagePage.Link.self] }
}

extension MessagePage.Link: TemplateValue {
    static let fields: [String: @Sendable (MessagePage.Link) -> Any?] = [
        "href": { $0.href },
        "label": { $0.label },
    ]
}

extension ConsoleMessagePage {
    var template: Template { .consoleMessage }
    static let fields: [String: @Sendable (ConsoleMessagePage) -> Any?] = [
        "title": { $0.title },
        "heading": { $0.heading },
        "text": { $0.text },
    ]
}

extension SignInPage {
    var template: Template { .signIn }
    static let fields: [String: @Sendable (SignInPage) -> Any?] = [
        "title": { $0.title },
        "notice": { $0.notice.map { $0 as Any } },
        "error": { $0.error.map { $0 as Any } },
        "loginName": { $0.loginName.map { $0 as Any } },
    ]
}

extension UsagePanel: TemplateValue {
    static let fields: [String: @Sendable (UsagePanel) -> Any?] = [
        "today": { $0.today },
        "week": { $0.week },
        "admins": { $0.admins },
        "hasAdmins": { $0.hasAdmins },
    ]
    static var nested: [any TemplateValue.Type] { [UsagePanel.Row.self] }
}

extension UsagePanel.Row: TemplateValue {
    static let fields: [String: @Sendable (UsagePanel.Row) -> Any?] = [
        "name": { $0.name },
        "today": { $0.today },
        "week": { $0.week },
    ]
}

extension KeysPage {
    var template: Template { .keys }
    static let fields: [String: @Sendable (KeysPage) -> Any?] = [
        "title": { $0.title },
        "orgID": { $0.orgID },
        "orgName": { $0.orgName },
        "baseURL": { $0.baseURL },
        "canWrite": { $0.canWrite },
        "readOnly": { $0.readOnly },
        "multiOrg": { $0.multiOrg },
        "canWriteAny": { $0.canWriteAny },
        "sessionsEnd": { $0.sessionsEnd },
        "sessionsEndCap": { $0.sessionsEndCap },
        "columns": { $0.columns },
        "columnChoice": { $0.columnChoice },
        "allColumns": { $0.allColumns },
        "hasKey": { $0.hasKey },
        "keyID": { $0.keyID.map { $0 as Any } },
        "keyValue": { $0.keyValue.map { $0 as Any } },
        "keyDisabled": { $0.keyDisabled },
        "cells": { $0.cells },
        "done": { $0.done.map { $0 as Any } },
        "pageError": { $0.pageError.map { $0 as Any } },
        "openEdit": { $0.openEdit },
        "openRegenerate": { $0.openRegenerate },
        "openDelete": { $0.openDelete },
        "openAdd": { $0.openAdd },
        "openApply": { $0.openApply },
        "editError": { $0.editError.map { $0 as Any } },
        "regenerateError": { $0.regenerateError.map { $0 as Any } },
        "deleteError": { $0.deleteError.map { $0 as Any } },
        "addError": { $0.addError.map { $0 as Any } },
        "applyError": { $0.applyError.map { $0 as Any } },
        "editValue": { $0.editValue.map { $0 as Any } },
        "addValue": { $0.addValue.map { $0 as Any } },
        "applyValue": { $0.applyValue.map { $0 as Any } },
        "usage": { $0.usage.map { $0 as Any } },
        "usageFlush": { $0.usageFlush },
    ]
    static var nested: [any TemplateValue.Type] { [KeysPage.Column.self, KeysPage.ColumnChoice.self, KeysPage.Cell.self, UsagePanel.self] }
}

extension KeysPage.Column: TemplateValue {
    static let fields: [String: @Sendable (KeysPage.Column) -> Any?] = [
        "name": { $0.name },
        "title": { $0.title },
    ]
}

extension KeysPage.ColumnChoice: TemplateValue {
    static let fields: [String: @Sendable (KeysPage.ColumnChoice) -> Any?] = [
        "name": { $0.name },
        "title": { $0.title },
        "shown": { $0.shown },
    ]
}

extension KeysPage.Cell: TemplateValue {
    static let fields: [String: @Sendable (KeysPage.Cell) -> Any?] = [
        "name": { $0.name },
        "title": { $0.title },
        "isKey": { $0.isKey },
        "isText": { $0.isText },
        "isTime": { $0.isTime },
        "hasTime": { $0.hasTime },
        "value": { $0.value },
        "iso": { $0.iso },
    ]
}

extension AppliedPage {
    var template: Template { .applied }
    static let fields: [String: @Sendable (AppliedPage) -> Any?] = [
        "title": { $0.title },
        "orgID": { $0.orgID },
        "results": { $0.results },
    ]
    static var nested: [any TemplateValue.Type] { [AppliedPage.Result.self] }
}

extension AppliedPage.Result: TemplateValue {
    static let fields: [String: @Sendable (AppliedPage.Result) -> Any?] = [
        "name": { $0.name },
        "outcome": { $0.outcome },
        "ok": { $0.ok },
    ]
}

extension EventRow: TemplateValue {
    static let fields: [String: @Sendable (EventRow) -> Any?] = [
        "iso": { $0.iso },
        "actor": { $0.actor },
        "action": { $0.action },
        "detail": { $0.detail },
    ]
}

extension Choice: TemplateValue {
    static let fields: [String: @Sendable (Choice) -> Any?] = [
        "value": { $0.value },
        "label": { $0.label },
        "selected": { $0.selected },
    ]
}

extension AuditPage {
    var template: Template { .audit }
    static let fields: [String: @Sendable (AuditPage) -> Any?] = [
        "title": { $0.title },
        "orgID": { $0.orgID },
        "orgName": { $0.orgName },
        "canWrite": { $0.canWrite },
        "type": { $0.type },
        "types": { $0.types },
        "events": { $0.events },
    ]
    static var nested: [any TemplateValue.Type] { [Choice.self, EventRow.self] }
}

extension AdminsPage {
    var template: Template { .admins }
    static let fields: [String: @Sendable (AdminsPage) -> Any?] = [
        "title": { $0.title },
        "orgID": { $0.orgID },
        "orgName": { $0.orgName },
        "canWrite": { $0.canWrite },
        "roles": { $0.roles },
        "admins": { $0.admins },
        "done": { $0.done.map { $0 as Any } },
        "pageError": { $0.pageError.map { $0 as Any } },
        "formError": { $0.formError.map { $0 as Any } },
        "formLogin": { $0.formLogin.map { $0 as Any } },
        "formName": { $0.formName.map { $0 as Any } },
        "formEmail": { $0.formEmail.map { $0 as Any } },
    ]
    static var nested: [any TemplateValue.Type] { [AdminsPage.RoleOption.self, AdminsPage.Row.self] }
}

extension AdminsPage.RoleOption: TemplateValue {
    static let fields: [String: @Sendable (AdminsPage.RoleOption) -> Any?] = [
        "id": { $0.id },
        "name": { $0.name },
        "selected": { $0.selected },
    ]
}

extension AdminsPage.Row: TemplateValue {
    static let fields: [String: @Sendable (AdminsPage.Row) -> Any?] = [
        "id": { $0.id },
        "login": { $0.login },
        "name": { $0.name },
        "email": { $0.email },
        "role": { $0.role },
        "status": { $0.status },
        "toggle": { $0.toggle },
        "toggleLabel": { $0.toggleLabel },
        "isSelf": { $0.isSelf },
        "roleOptions": { $0.roleOptions },
    ]
}

extension RolesPage {
    var template: Template { .roles }
    static let fields: [String: @Sendable (RolesPage) -> Any?] = [
        "title": { $0.title },
        "orgID": { $0.orgID },
        "orgName": { $0.orgName },
        "canWrite": { $0.canWrite },
        "roles": { $0.roles },
        "done": { $0.done.map { $0 as Any } },
        "pageError": { $0.pageError.map { $0 as Any } },
    ]
    static var nested: [any TemplateValue.Type] { [RolesPage.Row.self] }
}

extension RolesPage.Row: TemplateValue {
    static let fields: [String: @Sendable (RolesPage.Row) -> Any?] = [
        "id": { $0.id },
        "name": { $0.name },
        "editable": { $0.editable },
        "fixed": { $0.fixed },
        "levelLabel": { $0.levelLabel },
        "levels": { $0.levels },
    ]
    static var nested: [any TemplateValue.Type] { [Choice.self] }
}

extension WebhooksPage {
    var template: Template { .webhooks }
    static let fields: [String: @Sendable (WebhooksPage) -> Any?] = [
        "title": { $0.title },
        "orgID": { $0.orgID },
        "orgName": { $0.orgName },
        "canWrite": { $0.canWrite },
        "endpoints": { $0.endpoints },
        "hasEndpoints": { $0.hasEndpoints },
        "eventChoices": { $0.eventChoices },
        "recoverChoices": { $0.recoverChoices },
        "done": { $0.done.map { $0 as Any } },
        "pageError": { $0.pageError.map { $0 as Any } },
        "secret": { $0.secret.map { $0 as Any } },
        "secretEndpoint": { $0.secretEndpoint.map { $0 as Any } },
        "formURL": { $0.formURL.map { $0 as Any } },
    ]
    static var nested: [any TemplateValue.Type] { [WebhooksPage.Endpoint.self, Choice.self] }
}

extension WebhooksPage.Endpoint: TemplateValue {
    static let fields: [String: @Sendable (WebhooksPage.Endpoint) -> Any?] = [
        "id": { $0.id },
        "url": { $0.url },
        "events": { $0.events },
        "enabled": { $0.enabled },
        "created": { $0.created },
        "overlapUntil": { $0.overlapUntil.map { $0 as Any } },
        "disabledReason": { $0.disabledReason.map { $0 as Any } },
        "failingSince": { $0.failingSince.map { $0 as Any } },
        "deliveries": { $0.deliveries },
        "hasDeliveries": { $0.hasDeliveries },
    ]
    static var nested: [any TemplateValue.Type] { [WebhooksPage.Delivery.self] }
}

extension WebhooksPage.Delivery: TemplateValue {
    static let fields: [String: @Sendable (WebhooksPage.Delivery) -> Any?] = [
        "id": { $0.id },
        "endpointID": { $0.endpointID },
        "eventType": { $0.eventType },
        "status": { $0.status },
        "attempts": { $0.attempts },
        "lastTry": { $0.lastTry },
        "nextTry": { $0.nextTry },
        "response": { $0.response },
        "time": { $0.time },
        "resendable": { $0.resendable },
    ]
}

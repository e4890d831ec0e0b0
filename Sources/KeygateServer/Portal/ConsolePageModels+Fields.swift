// The names each console view model shows its template (``TemplateValue``), as `PageModels+Fields.swift` lists the
// portal's.

import Foundation

extension ConsoleChrome: TemplateValue {
    static let fields: [String: @Sendable (ConsoleChrome) -> Any?] = [
        "operator": { $0.`operator`.map { $0 as Any } },
        "csrf": { $0.csrf },
        "console": { $0.console },
    ]
}

extension ConsoleSignInPage {
    var template: Template { .consoleSignIn }
    static let fields: [String: @Sendable (ConsoleSignInPage) -> Any?] = [
        "title": { $0.title },
        "error": { $0.error.map { $0 as Any } },
        "loginName": { $0.loginName.map { $0 as Any } },
    ]
}

extension ConsoleOrganizationsPage {
    var template: Template { .consoleOrganizations }
    static let fields: [String: @Sendable (ConsoleOrganizationsPage) -> Any?] = [
        "title": { $0.title },
        "count": { $0.count },
        "q": { $0.q },
        "page": { $0.page },
        "pages": { $0.pages },
        "prev": { $0.prev.map { $0 as Any } },
        "next": { $0.next.map { $0 as Any } },
        "orgs": { $0.orgs },
        "done": { $0.done.map { $0 as Any } },
        "formError": { $0.formError.map { $0 as Any } },
        "formName": { $0.formName.map { $0 as Any } },
        "formAdmin": { $0.formAdmin.map { $0 as Any } },
    ]
    static var nested: [any TemplateValue.Type] { [ConsoleOrganizationsPage.Row.self] }
}

extension ConsoleOrganizationsPage.Row: TemplateValue {
    static let fields: [String: @Sendable (ConsoleOrganizationsPage.Row) -> Any?] = [
        "id": { $0.id },
        "name": { $0.name },
        "admins": { $0.admins },
        "keyStatus": { $0.keyStatus },
        "lastUsed": { $0.lastUsed },
    ]
}

extension ConsoleCreatedPage {
    var template: Template { .consoleCreated }
    static let fields: [String: @Sendable (ConsoleCreatedPage) -> Any?] = [
        "title": { $0.title },
        "id": { $0.id },
        "name": { $0.name },
        "login": { $0.login },
        "password": { $0.password },
        "key": { $0.key },
    ]
}

extension ConsoleOrganizationPage {
    var template: Template { .consoleOrganization }
    static let fields: [String: @Sendable (ConsoleOrganizationPage) -> Any?] = [
        "title": { $0.title },
        "id": { $0.id },
        "name": { $0.name },
        "hasKey": { $0.hasKey },
        "enabled": { $0.enabled },
        "keyStatus": { $0.keyStatus.map { $0 as Any } },
        "modifiedBy": { $0.modifiedBy.map { $0 as Any } },
        "modifiedOn": { $0.modifiedOn.map { $0 as Any } },
        "sessions": { $0.sessions.map { $0 as Any } },
        "done": { $0.done.map { $0 as Any } },
        "events": { $0.events },
        "usage": { $0.usage.map { $0 as Any } },
    ]
    static var nested: [any TemplateValue.Type] { [EventRow.self, UsagePanel.self] }
}

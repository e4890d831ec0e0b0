import Foundation
import KeygateCore
import Mustache

/// A value a template reads: the names it shows, each with how to read it (``fields``, listed in
/// `PageModels+Fields.swift`), so rendering needs no reflection and a template's name that no model has is found by a
/// test (`TemplateTests`) rather than rendered empty.
protocol TemplateValue: MustacheParent {
    /// The template's name for each readable property, and how to read it (an optional that is nil counts as absent).
    static var fields: [String: @Sendable (Self) -> Any?] { get }
    /// The types of the values it holds that templates read into (a section's items): for the template test.
    static var nested: [any TemplateValue.Type] { get }
}

extension TemplateValue {
    static var nested: [any TemplateValue.Type] { [] }
    func child(named name: String) -> Any? { Self.fields[name].flatMap { $0(self) } }
}

/// The view model of one page: its template, the names it shows, and the shared frame (``chrome``) the template's
/// header partial reads. A name is looked up in the page first, then in its chrome, then (for a section's items) as
/// Mustache does.
protocol PageModel: TemplateValue {
    associatedtype Frame: TemplateValue
    /// The part every page of its area shows: the portal's header and switcher, or the console's.
    var chrome: Frame { get }
    /// The template that renders it.
    var template: Template { get }
}

extension PageModel {
    func child(named name: String) -> Any? { Self.fields[name].flatMap { $0(self) } ?? chrome.child(named: name) }
    /// The frame's type, for the template test.
    static var frameType: any TemplateValue.Type { Frame.self }
}

// MARK: The portal's frame

/// The header, organization switcher and sign-out form of every portal page, and the organization tabs.
struct PortalChrome {
    /// Whether the browser holds any live portal session.
    var signedIn = false
    /// The form token every POST carries.
    var csrf = ""
    /// The signed-in admin's display name in the current organization.
    var userName = ""
    /// How many organizations the browser is signed in to.
    var orgCount = 0
    /// The switcher's entries.
    var orgs: [OrganizationOption] = []
    /// Whether the organization tabs show, and which one is current.
    var nav = false
    var navKeys = false
    var navAdmins = false
    var navRoles = false
    var navAudit = false
    var navWebhooks = false
    /// The organization the tabs link to.
    var orgID: Int64?
    /// The document title's suffix: the portal's pages are not the console's.
    let console = false

    /// The tab to mark current on an organization page.
    enum Tab { case keys, admins, roles, audit, webhooks }

    /// Shows the tabs for `orgID` with `tab` current.
    mutating func showTabs(orgID: Int64, current tab: Tab) {
        self.orgID = orgID
        nav = true
        switch tab {
        case .keys: navKeys = true
        case .admins: navAdmins = true
        case .roles: navRoles = true
        case .audit: navAudit = true
        case .webhooks: navWebhooks = true
        }
    }
}

struct OrganizationOption {
    let id: Int64
    let name: String
    let current: Bool
}

/// A sentence of feedback under a heading, or an error and a link back: any portal or console message page.
struct MessagePage: PageModel {
    var chrome = PortalChrome()
    var title: String
    var heading: String
    var text: String
    var link: Link?

    struct Link {
        let href: String
        let label: String
    }
}

/// The console's message page: its own header (no operator is known on an error path, so no console links show).
struct ConsoleMessagePage: PageModel {
    var chrome = ConsoleChrome()
    var title: String
    var heading: String
    var text: String
}

// MARK: Portal pages

struct SignInPage: PageModel {
    var chrome: PortalChrome
    var title = "Sign in"
    var notice: String?
    var error: String?
    var loginName: String?
}

/// The usage panel of the API Key Management page and the console's organization page: requests today and in the
/// last 7 days, per admin, as the servers flushed them.
struct UsagePanel {
    let today: Int64
    let week: Int64
    let admins: [Row]
    let hasAdmins: Bool

    struct Row {
        let name: String
        let today: Int64
        let week: Int64
    }

    init(_ report: UsageReport) {
        self.today = report.today
        self.week = report.period
        self.admins = report.admins.map { Row(name: $0.loginName ?? "#\($0.adminID) (deleted)", today: $0.today, week: $0.period) }
        self.hasAdmins = !admins.isEmpty
    }
}

struct KeysPage: PageModel {
    var chrome: PortalChrome
    var title = "API Key Management"
    var orgID: Int64
    var orgName: String
    var baseURL: String
    var canWrite: Bool
    var readOnly: Bool
    /// Whether the browser is signed in to several organizations ("Apply one key to all").
    var multiOrg: Bool
    var canWriteAny: Bool
    /// "3 live API sessions will end." for the dialogs, and capitalized.
    var sessionsEnd: String
    var sessionsEndCap: String
    var columns: [Column]
    var columnChoice: String
    var allColumns: [ColumnChoice]
    var hasKey = false
    var keyID: Int64?
    var keyValue: String?
    var keyDisabled = false
    var cells: [Cell] = []
    var done: String?
    var pageError: String?
    /// A dialog reopened after the server refused its value, with the reason and the value.
    var openEdit = false
    var openRegenerate = false
    var openDelete = false
    var openAdd = false
    var openApply = false
    var editError: String?
    var regenerateError: String?
    var deleteError: String?
    var addError: String?
    var applyError: String?
    var editValue: String?
    var addValue: String?
    var applyValue: String?
    /// API requests today and in the last 7 days, per admin (``UsageRow``), as the servers flushed them.
    var usage: UsagePanel?
    /// How often servers write their counts ("minute", "30 seconds"): the figures lag by up to this.
    var usageFlush = "minute"

    struct Column {
        let name: String
        let title: String
    }

    struct ColumnChoice {
        let name: String
        let title: String
        let shown: Bool
    }

    /// One cell of the key's row; exactly one of `isKey`, `isText`, `isTime` is set.
    struct Cell {
        let name: String
        let title: String
        var isKey = false
        var isText = false
        var isTime = false
        var hasTime = false
        var value = ""
        var iso = ""
    }

    /// The dialogs the page can reopen.
    enum Dialog: String { case edit, regenerate, delete, add, apply }

    /// Reopens `dialog` with the server's reason and, where the dialog has a field, the value that was refused.
    mutating func reopen(_ dialog: Dialog, error: String, value: String? = nil) {
        switch dialog {
        case .edit: (openEdit, editError, editValue) = (true, error, value)
        case .regenerate: (openRegenerate, regenerateError) = (true, error)
        case .delete: (openDelete, deleteError) = (true, error)
        case .add: (openAdd, addError, addValue) = (true, error, value)
        case .apply: (openApply, applyError, applyValue) = (true, error, value)
        }
    }
}

struct AppliedPage: PageModel {
    var chrome: PortalChrome
    var title = "One key for all organizations"
    var orgID: Int64
    var results: [Result]

    struct Result {
        let name: String
        let outcome: String
        let ok: Bool
    }
}

/// An audit event as the portal and the console list it.
struct EventRow {
    let iso: String
    let actor: String
    let action: String
    let detail: String
}

/// One option of a `<select>`.
struct Choice {
    let value: String
    let label: String
    let selected: Bool
}

struct AuditPage: PageModel {
    var chrome: PortalChrome
    var title = "Audit"
    var orgID: Int64
    var orgName: String
    var canWrite: Bool
    var type: String
    var types: [Choice]
    var events: [EventRow]
}

struct AdminsPage: PageModel {
    var chrome: PortalChrome
    var title = "Admins"
    var orgID: Int64
    var orgName: String
    /// Whether the caller may manage admins (the add form and the row actions show).
    var canWrite: Bool
    var roles: [RoleOption]
    var admins: [Row]
    var done: String?
    var pageError: String?
    var formError: String?
    var formLogin: String?
    var formName: String?
    var formEmail: String?

    struct RoleOption {
        let id: Int64
        let name: String
        var selected = false
    }

    struct Row {
        let id: Int64
        let login: String
        let name: String
        let email: String
        let role: String
        let status: String
        let toggle: String
        let toggleLabel: String
        let isSelf: Bool
        let roleOptions: [RoleOption]
    }
}

struct RolesPage: PageModel {
    var chrome: PortalChrome
    var title = "Roles"
    var orgID: Int64
    var orgName: String
    var canWrite: Bool
    var roles: [Row]
    var done: String?
    var pageError: String?

    struct Row {
        let id: Int64
        let name: String
        let editable: Bool
        let fixed: Bool
        let levelLabel: String
        let levels: [Choice]
    }
}

struct WebhooksPage: PageModel {
    var chrome: PortalChrome
    var title = "Webhooks"
    var orgID: Int64
    var orgName: String
    var canWrite: Bool
    var endpoints: [Endpoint]
    var hasEndpoints: Bool
    var eventChoices: [Choice]
    /// The "recover failed deliveries of the last …" choices.
    var recoverChoices: [Choice] = PortalController.recoverPeriods.map { Choice(value: "\($0.hours)", label: $0.label, selected: $0.hours == 24) }
    var done: String?
    var pageError: String?
    /// A secret shown this once (after creating or rolling), with the endpoint it belongs to.
    var secret: String?
    var secretEndpoint: Int64?
    var formURL: String?

    struct Endpoint {
        let id: Int64
        let url: String
        let events: String
        let enabled: Bool
        let created: String
        let overlapUntil: String?
        /// Why Keygate disabled it (410 Gone, or failing for days).
        let disabledReason: String?
        /// Since when every attempt has failed, while it is enabled.
        let failingSince: String?
        let deliveries: [Delivery]
        let hasDeliveries: Bool
    }

    struct Delivery {
        let id: Int64
        let endpointID: Int64
        let eventType: String
        let status: String
        let attempts: Int
        let lastTry: String
        let nextTry: String
        let response: String
        let time: String
        /// Finished (delivered or failed): it can be sent again.
        let resendable: Bool
    }
}

import Foundation

/// The pages' Mustache templates: the files in `Sources/KeygateServer/Templates/`, compiled into the binary
/// (`.embedInCode` in Package.swift, so a copied `keygate` executable needs no resource folder), one case each. The
/// raw value is the name a template includes another by (`{{> head}}`). `{{x}}` escapes HTML; the pages never use
/// the unescaped form.
enum Template: String, CaseIterable, Sendable {
    /// The document's start, shared by the portal's and the console's headers.
    case document
    /// The portal's header (a partial of every portal page).
    case head
    /// Every page's end.
    case foot
    case signIn = "signin"
    case keys, message, applied, audit, admins, roles, webhooks
    /// The console's header.
    case consoleHead = "phead"
    case consoleSignIn = "provider-signin"
    case consoleOrganizations = "provider-orgs"
    case consoleOrganization = "provider-org"
    case consoleCreated = "provider-created"
    case consoleMessage = "provider-message"

    /// The file's text.
    var source: String { String(decoding: bytes, as: UTF8.self) }

    /// Whether it is included by other templates rather than rendered as a page.
    var isPartial: Bool { [.document, .head, .foot, .consoleHead].contains(self) }

    private var bytes: [UInt8] {
        switch self {
        case .document: PackageResources.document_mustache
        case .head: PackageResources.head_mustache
        case .foot: PackageResources.foot_mustache
        case .signIn: PackageResources.signin_mustache
        case .keys: PackageResources.keys_mustache
        case .message: PackageResources.message_mustache
        case .applied: PackageResources.applied_mustache
        case .audit: PackageResources.audit_mustache
        case .admins: PackageResources.admins_mustache
        case .roles: PackageResources.roles_mustache
        case .webhooks: PackageResources.webhooks_mustache
        case .consoleHead: PackageResources.phead_mustache
        case .consoleSignIn: PackageResources.provider_signin_mustache
        case .consoleOrganizations: PackageResources.provider_orgs_mustache
        case .consoleOrganization: PackageResources.provider_org_mustache
        case .consoleCreated: PackageResources.provider_created_mustache
        case .consoleMessage: PackageResources.provider_message_mustache
        }
    }
}

import Foundation

/// Who may do what: the one rule set every path an admin can reach passes through (the API, the admin portal, and
/// the use cases the CLI shares with them). The provider (CLI, console) acts outside it: it provisions and repairs.
///
/// The rules, in Zscaler's model (ranks 0-7, 0 the highest, Super Admin rank 0; `featurePermissions`;
/// `adminAcctAccess` governs admin accounts), written out as one table in `docs/authorization.md`:
///
/// 1. Every action needs a level of one or both governed features (``requirement(_:)``): viewing anything needs
///    `APIKEY_MANAGEMENT` `READ_ONLY`; changing the key or webhooks needs `READ_WRITE`; managing admins or roles
///    needs `APIKEY_MANAGEMENT` `READ_WRITE` *and* `ADMIN_ACCT_ACCESS` `READ_WRITE`.
/// 2. A role the caller creates, edits, deletes or assigns, and the role of an admin the caller changes, must be
///    *within* the caller's role (``contains(_:_:)``): ranked no higher (rank number not lower) and granting no
///    governed feature beyond the caller's level. So nobody can make, raise or hand out a role stronger than their
///    own, or take over (reset, disable, delete) an admin who holds one.
/// 3. Nobody changes or deletes the role they hold, or changes their own role, disabled flag or password through
///    admin management (their own password changes only with the old one, `passwordChange`).
/// 4. The Super Admin role (`isNonEditable`) is changed or deleted by nobody but the provider.
///
/// Only the governed features (``governedFeatures``) carry rights in Keygate; other feature names a client sends
/// (`POLICY_ACCESS`, …) are stored and reported back but grant nothing, so they are not compared.
public enum AccessRules {
    /// An action an admin can ask for, whatever the surface.
    public enum Action: String, Sendable, CaseIterable {
        /// See the key (list, show, reveal in the portal), the usage figures and one's own session.
        case viewKey
        /// Add, edit, regenerate or delete the key; apply one key to several organizations.
        case changeKey
        /// List the admins.
        case viewAdmins
        /// Create, change (name, e-mail, role, disabled, password) or delete another admin.
        case manageAdmins
        /// List the roles.
        case viewRoles
        /// Create, change or delete a role.
        case manageRoles
        /// Read the audit trail.
        case viewAudit
        /// List webhook endpoints and their deliveries.
        case viewWebhooks
        /// Create, change, roll, test or delete webhook endpoints; retry deliveries.
        case manageWebhooks
        /// Change one's own display name, e-mail, password (with the old one) and portal columns.
        case manageOwnAccount
    }

    /// The features Keygate enforces; the only ones compared when one role must lie within another.
    public static let governedFeatures = [Role.apiKeyManagement, Role.adminAccountAccess]

    /// The levels of the governed features an action needs of the caller's role.
    public static func requirement(_ action: Action) -> [String: FeatureAccess] { requirements[action] ?? [:] }

    /// ``requirement(_:)`` of every action, made once: every API call asks (a dictionary built per call showed in the
    /// hot path's profile).
    private static let requirements = Dictionary(uniqueKeysWithValues: Action.allCases.map { ($0, table($0)) })

    private static func table(_ action: Action) -> [String: FeatureAccess] {
        switch action {
        case .viewKey, .viewAdmins, .viewRoles, .viewAudit, .viewWebhooks, .manageOwnAccount:
            [Role.apiKeyManagement: .readOnly]
        case .changeKey, .manageWebhooks:
            [Role.apiKeyManagement: .readWrite]
        case .manageAdmins, .manageRoles:
            [Role.apiKeyManagement: .readWrite, Role.adminAccountAccess: .readWrite]
        }
    }

    /// Whether `role` grants what `action` needs.
    public static func allows(_ role: Role, _ action: Action) -> Bool {
        requirement(action).allSatisfy { feature, level in (role.featurePermissions[feature] ?? .none).grants(level) }
    }

    /// Throws ``KeygateError/forbidden(_:)`` naming what is missing unless `role` grants what `action` needs.
    public static func check(_ role: Role, _ action: Action) throws {
        guard !allows(role, action) else { return }
        let apiKey = role.apiKeyAccess
        switch action {
        case .changeKey, .manageWebhooks:
            throw KeygateError.forbidden(
                apiKey == .none ? "your role grants no access to API key management" : "your role grants read-only access to API key management")
        case .manageAdmins, .manageRoles:
            let what = action == .manageAdmins ? "managing admins" : "managing roles"
            throw KeygateError.forbidden("your role does not allow \(what) (API key management and adminAcctAccess READ_WRITE)")
        default:
            throw KeygateError.forbidden("your role grants no access to API key management")
        }
    }

    /// Whether `inner` lies within `outer`: ranked no higher, and no governed feature above `outer`'s level.
    public static func contains(_ outer: Role, _ inner: Role) -> Bool { excess(of: inner, over: outer) == nil }

    /// Why `inner` does not lie within `outer`, as the end of a sentence ("ranks above yours …"), or nil when it does.
    static func excess(of inner: Role, over outer: Role) -> String? {
        if inner.rank < outer.rank { return "ranks above yours (rank \(outer.rank); 0 is the highest)" }
        for feature in governedFeatures {
            let wanted = inner.featurePermissions[feature] ?? .none
            if !(outer.featurePermissions[feature] ?? .none).grants(wanted) {
                return "grants \(feature) \(wanted.rawValue), which your role does not"
            }
        }
        return nil
    }

    /// The check for creating (`current` nil), changing, or deleting (`proposed` nil) a role as `caller`.
    /// - Throws: ``KeygateError/forbidden(_:)`` with the rule that refuses it.
    public static func checkRoleChange(caller: Role, current: Role?, proposed: Role?) throws {
        try check(caller, .manageRoles)
        if let current {
            guard !current.isNonEditable else {
                throw KeygateError.forbidden("the \(current.name) role can be changed only by the provider")
            }
            guard current.id != caller.id else { throw KeygateError.forbidden("you cannot change or delete the role you hold") }
            if let excess = excess(of: current, over: caller) { throw KeygateError.forbidden("the \(current.name) role \(excess)") }
        }
        if let proposed, let excess = excess(of: proposed, over: caller) {
            throw KeygateError.forbidden("a role cannot be made that \(excess)")
        }
    }

    /// The check for creating (`target` nil), changing or deleting another admin as `caller`, who gives the admin
    /// `newRole` (nil: the role is not changed).
    /// - Throws: ``KeygateError/forbidden(_:)`` with the rule that refuses it.
    public static func checkAdminChange(caller: Role, targetRole: Role?, newRole: Role?) throws {
        try check(caller, .manageAdmins)
        if let targetRole, let excess = excess(of: targetRole, over: caller) {
            throw KeygateError.forbidden("the \(targetRole.name) role \(excess): you cannot manage its admins")
        }
        if let newRole, let excess = excess(of: newRole, over: caller) {
            throw KeygateError.forbidden("the \(newRole.name) role \(excess): you cannot grant it")
        }
    }
}

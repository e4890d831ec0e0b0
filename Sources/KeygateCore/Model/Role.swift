import Foundation

/// An access level for one feature.
public enum FeatureAccess: String, Sendable, Hashable, CaseIterable {
    case none = "NONE"
    case readOnly = "READ_ONLY"
    case readWrite = "READ_WRITE"

    /// Parses `NONE`, `READ_ONLY`, `READ_WRITE`, case-insensitively (the SDKs send several spellings).
    public init?(lenient string: String) {
        let normalized = string.uppercased().replacingOccurrences(of: "-", with: "_")
        self.init(rawValue: normalized)
    }

    /// Whether this level grants at least `other`.
    public func grants(_ other: FeatureAccess) -> Bool { self.rank >= other.rank }

    private var rank: Int {
        switch self {
        case .none: 0
        case .readOnly: 1
        case .readWrite: 2
        }
    }
}

/// An admin role: a name plus feature permissions. `APIKEY_MANAGEMENT` is the feature Keygate enforces.
public struct Role: Sendable, Hashable {
    /// The feature that governs API sessions and the key.
    public static let apiKeyManagement = "APIKEY_MANAGEMENT"
    /// Who may manage admin accounts (create, change, disable, delete, reset another's password): Zscaler's
    /// `adminAcctAccess`, kept among the feature permissions under this name. Only `READ_WRITE` manages.
    public static let adminAccountAccess = "ADMIN_ACCT_ACCESS"
    /// The role type every Keygate role reports (the ZTW value the SDKs expect).
    public static let defaultRoleType = "EDGE_CONNECTOR_ADMIN"
    /// The role type ZIA clients see for a Cloud & Branch Connector one: ZIA's own admin type.
    public static let ziaRoleType = "ORG_ADMIN"
    /// Name of the read-only role every new organization starts with, as a tenant does.
    public static let readOnlyAdminName = "Read Only Admin"

    /// Database id.
    public var id: Int64
    /// Owning organization.
    public var orgID: Int64
    /// Unique name within the organization.
    public var name: String
    /// Zscaler's rank (0-7, 0 the highest): nobody creates, changes or grants a role ranked above their own (``AccessRules``).
    public var rank: Int
    /// Zscaler's role type; reported back as given.
    public var roleType: String
    /// Feature name (canonical `UPPER_SNAKE`) to access level.
    public var featurePermissions: [String: FeatureAccess]
    /// Shipped roles (Super Admin) cannot be edited or deleted.
    public var isNonEditable: Bool
    /// Zscaler's auditor flag; reported back as given.
    public var isAuditor: Bool

    public init(
        id: Int64, orgID: Int64, name: String, rank: Int = 7, roleType: String = Role.defaultRoleType,
        featurePermissions: [String: FeatureAccess], isNonEditable: Bool = false, isAuditor: Bool = false
    ) {
        self.id = id
        self.orgID = orgID
        self.name = name
        self.rank = rank
        self.roleType = roleType
        self.featurePermissions = featurePermissions
        self.isNonEditable = isNonEditable
        self.isAuditor = isAuditor
    }

    /// The role's access to API key management (missing means `NONE`).
    public var apiKeyAccess: FeatureAccess { featurePermissions[Self.apiKeyManagement] ?? .none }
    /// The role's access to admin accounts (missing means `NONE`).
    public var adminAccess: FeatureAccess { featurePermissions[Self.adminAccountAccess] ?? .none }

    /// The role type as a client on `channel` expects it: ZIA clients know ZIA types (`ORG_ADMIN`), not the Cloud &
    /// Branch Connector one every Keygate role is stored with; a type a caller set explicitly is reported as set.
    public func roleType(for channel: SessionChannel) -> String {
        channel == .api(.zia) && roleType == Self.defaultRoleType ? Self.ziaRoleType : roleType
    }

    /// The Super Admin role every organization is provisioned with.
    public static func superAdmin(orgID: Int64) -> Role {
        Role(
            id: 0, orgID: orgID, name: "Super Admin", rank: 0,
            featurePermissions: [apiKeyManagement: .readWrite, adminAccountAccess: .readWrite], isNonEditable: true
        )
    }

    /// The read-only role every new organization also starts with: it may list the key, not change anything.
    public static func readOnlyAdmin(orgID: Int64) -> Role {
        Role(
            id: 0, orgID: orgID, name: readOnlyAdminName, rank: 7,
            featurePermissions: [apiKeyManagement: .readOnly, adminAccountAccess: .none], isNonEditable: false
        )
    }

    /// Canonical feature name: the SDKs send `APIKEY_MANAGEMENT`, `apikeyManagement` or `apikey_management`.
    ///
    /// Names are compared case-insensitively and without underscores; a name that matches a known feature is
    /// stored in that feature's spelling, any other is upper-cased with underscores kept as sent.
    public static func canonicalFeatureName(_ name: String) -> String {
        let squashed = name.replacingOccurrences(of: "_", with: "").uppercased()
        if squashed == apiKeyManagement.replacingOccurrences(of: "_", with: "") { return apiKeyManagement }
        if squashed == adminAccountAccess.replacingOccurrences(of: "_", with: "") { return adminAccountAccess }
        // camelCase -> UPPER_SNAKE for the others, so `policyAccess` and `POLICY_ACCESS` meet.
        var out = ""
        for ch in name {
            if ch.isUppercase, !out.isEmpty, out.last != "_", name.contains(where: \.isLowercase) { out.append("_") }
            out.append(contentsOf: ch.uppercased())
        }
        return out
    }

    /// Checks a role name as other names are checked (``Admin/validateText(_:field:required:)``: no control,
    /// format, bidi or line-separator characters), 1-100 characters, with no space at either end, so neither a CSV
    /// row split nor a look-alike such as "Super Admin " can be made.
    public static func validateName(_ name: String) throws {
        try Admin.validateText(name, field: "role name", required: true)
        guard name.count <= 100, name.trimmingCharacters(in: .whitespaces) == name else {
            throw KeygateError.invalidInput("role name must be 1-100 characters with no space at either end")
        }
    }
}

import Foundation
import KeygateCore
import Testing

/// The authorization rules on their own (``AccessRules``); the access matrix in the server tests drives them through
/// every route.
@Suite("Access rules")
struct AccessRulesTests {
    static func role(
        id: Int64, rank: Int, apiKey: FeatureAccess, admin: FeatureAccess = .none, nonEditable: Bool = false, name: String = "r"
    ) -> Role {
        Role(
            id: id, orgID: 1, name: name, rank: rank,
            featurePermissions: [Role.apiKeyManagement: apiKey, Role.adminAccountAccess: admin], isNonEditable: nonEditable)
    }

    let superAdmin = role(id: 1, rank: 0, apiKey: .readWrite, admin: .readWrite, nonEditable: true, name: "Super Admin")
    let manager = role(id: 2, rank: 5, apiKey: .readWrite, admin: .readWrite, name: "Admin Manager")
    let keyManager = role(id: 3, rank: 7, apiKey: .readWrite, name: "Key Manager")
    let readOnly = role(id: 4, rank: 7, apiKey: .readOnly, name: "Read Only Admin")

    @Test("each action needs its levels of the governed features")
    func requirements() {
        #expect(AccessRules.allows(readOnly, .viewKey) && AccessRules.allows(readOnly, .viewRoles))
        #expect(!AccessRules.allows(readOnly, .changeKey) && !AccessRules.allows(readOnly, .manageWebhooks))
        #expect(AccessRules.allows(keyManager, .changeKey) && AccessRules.allows(keyManager, .manageWebhooks))
        #expect(!AccessRules.allows(keyManager, .manageRoles) && !AccessRules.allows(keyManager, .manageAdmins))
        #expect(AccessRules.allows(manager, .manageRoles) && AccessRules.allows(manager, .manageAdmins))
        let none = Self.role(id: 5, rank: 7, apiKey: .none, admin: .readWrite)
        for action in AccessRules.Action.allCases { #expect(!AccessRules.allows(none, action), "\(action)") }
        // adminAcctAccess alone is not enough: managing admins and roles also needs API key write access.
        let adminOnly = Self.role(id: 6, rank: 5, apiKey: .readOnly, admin: .readWrite)
        #expect(!AccessRules.allows(adminOnly, .manageRoles) && !AccessRules.allows(adminOnly, .manageAdmins))
    }

    @Test("a key manager cannot raise its own role to admin access and rank 0 (the reported escalation)")
    func keyManagerEscalation() {
        var raised = keyManager
        raised.featurePermissions[Role.adminAccountAccess] = .readWrite
        raised.rank = 0
        #expect(throws: KeygateError.self) { try AccessRules.checkRoleChange(caller: keyManager, current: keyManager, proposed: raised) }
        var readOnlyRaised = readOnly
        readOnlyRaised.featurePermissions[Role.adminAccountAccess] = .readWrite
        #expect(throws: KeygateError.self) { try AccessRules.checkRoleChange(caller: keyManager, current: readOnly, proposed: readOnlyRaised) }
    }

    @Test("an admin manager cannot raise a role above its rank or rights, nor touch its own or Super Admin's")
    func managerBounds() throws {
        var ownRaised = manager
        ownRaised.rank = 0
        #expect(throws: KeygateError.self) { try AccessRules.checkRoleChange(caller: manager, current: manager, proposed: ownRaised) }
        #expect(throws: KeygateError.self) { try AccessRules.checkRoleChange(caller: manager, current: manager, proposed: manager) }
        #expect(throws: KeygateError.self) { try AccessRules.checkRoleChange(caller: manager, current: superAdmin, proposed: nil) }
        #expect(throws: KeygateError.self) { try AccessRules.checkRoleChange(caller: superAdmin, current: superAdmin, proposed: superAdmin) }
        var lowered = readOnly
        lowered.rank = 4
        #expect(throws: KeygateError.self) { try AccessRules.checkRoleChange(caller: manager, current: readOnly, proposed: lowered) }
        // Within its own bounds it may: rank 5-7, up to READ_WRITE on both features.
        var fine = readOnly
        fine.rank = 5
        fine.featurePermissions = [Role.apiKeyManagement: .readWrite, Role.adminAccountAccess: .readWrite]
        try AccessRules.checkRoleChange(caller: manager, current: readOnly, proposed: fine)
        try AccessRules.checkRoleChange(caller: manager, current: nil, proposed: keyManager)
        try AccessRules.checkRoleChange(caller: manager, current: keyManager, proposed: nil)
    }

    @Test("a role of equal rank that grants more than the caller lies outside it")
    func equalRankMoreRights() {
        let strongerPeer = Self.role(id: 9, rank: 5, apiKey: .readWrite, admin: .readWrite)
        let weakManager = Self.role(id: 10, rank: 5, apiKey: .readWrite, admin: .readWrite)
        #expect(AccessRules.contains(weakManager, strongerPeer))
        let limited = Self.role(id: 11, rank: 7, apiKey: .readOnly, admin: .readWrite)
        #expect(!AccessRules.contains(limited, keyManager), "rank 7 both, but the key manager writes keys")
        #expect(!AccessRules.contains(manager, superAdmin) && AccessRules.contains(superAdmin, manager))
    }

    @Test("admin changes: the target's role and the role given must lie within the caller's")
    func adminChanges() throws {
        #expect(throws: KeygateError.self) { try AccessRules.checkAdminChange(caller: manager, targetRole: superAdmin, newRole: nil) }
        #expect(throws: KeygateError.self) { try AccessRules.checkAdminChange(caller: manager, targetRole: readOnly, newRole: superAdmin) }
        #expect(throws: KeygateError.self) { try AccessRules.checkAdminChange(caller: keyManager, targetRole: readOnly, newRole: nil) }
        try AccessRules.checkAdminChange(caller: manager, targetRole: readOnly, newRole: keyManager)
        try AccessRules.checkAdminChange(caller: superAdmin, targetRole: manager, newRole: superAdmin)
    }

    @Test("features Keygate does not enforce are not compared")
    func ungoverned() throws {
        var other = readOnly
        other.featurePermissions["POLICY_ACCESS"] = .readWrite
        try AccessRules.checkRoleChange(caller: manager, current: nil, proposed: other)
    }

    @Test("role names refuse line breaks, controls, bidi and look-alike spaces")
    func roleNames() throws {
        for bad in [
            "a\nb", "a\rb", "x\u{202E}y", "x\u{2028}y", "x\u{85}y", "Super Admin ", " Super Admin", "", "   ", String(repeating: "a", count: 101),
        ] {
            #expect(throws: KeygateError.self, "\(bad.debugDescription)") { try Role.validateName(bad) }
        }
        try Role.validateName("Key Manager (EU)")
    }
}

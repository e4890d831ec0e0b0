import ArgumentParser
import Foundation
import KeygateCore

struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Create, list, disable or enable an organization's admins.",
        subcommands: [Create.self, List.self, Disable.self, Enable.self])

    struct Row: Encodable {
        let id: Int64
        let loginName: String
        let userName: String
        let role: String
        let disabled: Bool
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an admin.")
        @OptionGroup var org: OrganizationOptions
        @Option(help: "Login name.") var login: String
        @Option(help: "Role name (default: Super Admin).") var role: String = "Super Admin"
        @Option(help: "Display name (default: the login name).") var name: String?
        @Flag(help: "Read the password from standard input instead of generating one.") var passwordStdin = false

        func run() async throws {
            let given = passwordStdin ? try readPasswordFromStdin() : nil
            try await org.withOrganization { runtime, organization in
                let roleValue = try await runtime.keygate.roles.role(runtime.provider, orgID: organization.id, named: role)
                let password = given ?? PasswordPolicy.generate()
                let admin = try await runtime.keygate.admins.createAdmin(
                    runtime.provider, orgID: organization.id,
                    draft: AdminDraft(loginName: login, userName: name ?? login, roleID: roleValue.id, password: password))
                var out = ["id": "\(admin.id)", "loginName": admin.loginName]
                if given == nil { out["password"] = password }  // a password given on standard input is not echoed
                Output.emit(org.common.json, out) {
                    "admin \(admin.loginName) (id \(admin.id)) created" + (given == nil ? "; password: \(password)" : "")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List admins.")
        @OptionGroup var org: OrganizationOptions

        func run() async throws {
            try await org.withOrganization { runtime, organization in
                let roles = Dictionary(
                    uniqueKeysWithValues: try await runtime.keygate.roles.roles(runtime.provider, orgID: organization.id).map { ($0.id, $0.name) })
                let rows = try await runtime.keygate.admins.admins(runtime.provider, orgID: organization.id).map {
                    Row(id: $0.id, loginName: $0.loginName, userName: $0.userName, role: roles[$0.roleID] ?? "", disabled: $0.disabled)
                }
                Output.emit(org.common.json, rows) {
                    (["ID\tLOGIN\tNAME\tROLE\tSTATUS"]
                        + rows.map { "\($0.id)\t\($0.loginName)\t\($0.userName)\t\($0.role)\t\($0.disabled ? "Disabled" : "Enabled")" })
                        .joined(separator: "\n")
                }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an admin; their sessions end now.")
        @OptionGroup var org: OrganizationOptions
        @Option(help: "Login name.") var login: String

        func run() async throws { try await setDisabled(org, login, true) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled admin.")
        @OptionGroup var org: OrganizationOptions
        @Option(help: "Login name.") var login: String

        func run() async throws { try await setDisabled(org, login, false) }
    }

    static func setDisabled(_ org: OrganizationOptions, _ login: String, _ disabled: Bool) async throws {
        try await org.withOrganization { runtime, organization in
            let admin = try await runtime.keygate.admins.admin(runtime.provider, orgID: organization.id, loginName: login)
            let updated = try await runtime.keygate.admins.updateAdmin(runtime.provider, current: admin, draft: AdminDraft(disabled: disabled))
            Output.emit(org.common.json, ["loginName": updated.loginName, "disabled": "\(updated.disabled)"]) {
                "admin \(updated.loginName): \(updated.disabled ? "disabled" : "enabled")"
            }
        }
    }
}

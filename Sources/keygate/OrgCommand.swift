import ArgumentParser
import Foundation
import KeygateCore

struct OrgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "Provision and list organizations.",
        subcommands: [Create.self, List.self, SetRotationPolicy.self])

    struct ProvisionOutput: Encodable {
        let organizationId: Int64
        let organization: String
        let username: String
        /// Only a generated password is printed; one given on standard input is not echoed.
        let password: String?
        let apiKey: String
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Provision an organization, its Super Admin and its first key.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Organization name.") var name: String
        @Option(help: "Login name of the Super Admin.") var admin: String
        @Flag(help: "Read the admin's password from standard input instead of generating one.") var passwordStdin = false

        func run() async throws {
            let password = passwordStdin ? try readPasswordFromStdin() : nil
            try await withRuntime(common) { runtime in
                let result = try await runtime.keygate.provisionOrganization(
                    name: name, adminLogin: admin, password: password, operator: operatorName)
                let out = ProvisionOutput(
                    organizationId: result.organization.id, organization: result.organization.name, username: result.admin.loginName,
                    password: passwordStdin ? nil : result.password, apiKey: result.key.value.rawValue)
                Output.emit(common.json, out) {
                    """
                    organization: \(out.organization) (id \(out.organizationId))
                    username:     \(out.username)
                    password:     \(out.password ?? "(as given)")
                    API key:      \(out.apiKey)
                    """
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List organizations.")
        @OptionGroup var common: CommonOptions

        struct Row: Encodable {
            let id: Int64
            let name: String
            let admins: Int
            let keyStatus: String
            let keyLastUsed: String
            let rotationPolicy: String
        }

        func run() async throws {
            try await withRuntime(common) { runtime in
                let rows = try await runtime.keygate.organizationSummaries().map { s in
                    Row(
                        id: s.organization.id, name: s.organization.name, admins: s.adminCount,
                        keyStatus: s.keyEnabled.map { $0 ? "Enabled" : "Disabled" } ?? "No key",
                        keyLastUsed: Output.iso(s.keyLastUsedAt), rotationPolicy: s.organization.rotationPolicy.storedValue)
                }
                Output.emit(common.json, rows) {
                    (["ID\tNAME\tADMINS\tKEY\tLAST USED\tROTATION"]
                        + rows.map { "\($0.id)\t\($0.name)\t\($0.admins)\t\($0.keyStatus)\t\($0.keyLastUsed)\t\($0.rotationPolicy)" })
                        .joined(separator: "\n")
                }
            }
        }
    }

    struct SetRotationPolicy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-rotation-policy",
            abstract: "What a key rotation does to old sessions: end (default), keep, or grace:SECONDS.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Organization name or id.") var org: String
        @Option(help: "end | keep | grace:SECONDS (1-86400)") var policy: String

        func run() async throws {
            guard let parsed = RotationPolicy(storedValue: policy) else {
                throw ValidationError("--policy must be end, keep or grace:SECONDS (1-86400)")
            }
            try await withRuntime(common) { runtime in
                let organization = try await runtime.keygate.findOrganization(org)
                try await runtime.keygate.setRotationPolicy(orgID: organization.id, policy: parsed, operator: operatorName)
                Output.emit(common.json, ["organization": organization.name, "rotationPolicy": parsed.storedValue]) {
                    "\(organization.name): rotation policy \(parsed.storedValue)"
                }
            }
        }
    }
}

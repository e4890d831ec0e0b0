import ArgumentParser
import Foundation
import KeygateCore
import KeygateStorage

/// Reads a password from standard input (first line), for `--password-stdin`.
func readPasswordFromStdin() throws -> String {
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw ValidationError("--password-stdin: no password on standard input")
    }
    return line
}

/// Runs `body` with an opened runtime and turns domain errors into a clear message and exit code 1.
func withRuntime(_ common: CommonOptions, _ body: (Runtime) async throws -> Void) async throws {
    let runtime = try await Runtime.open(common)
    do {
        try await body(runtime)
        await runtime.close()
    } catch let error as KeygateError {
        await runtime.close()
        if common.json {
            Output.printJSON(["error": "\(error)"])
        } else {
            FileHandle.standardError.write(Data("error: \(describe(error))\n".utf8))
        }
        throw ExitCode(1)
    } catch {
        await runtime.close()
        throw error
    }
}

func describe(_ error: KeygateError) -> String {
    switch error {
    case .invalidInput(let m), .forbidden(let m), .notFound(let m), .conflict(let m): m
    case .keyDisabled: "the key is disabled"
    case .adminDisabled: "the admin is disabled"
    case .editLockNotAvailable: "another change won the race; retry"
    case .invalidCredentials: "invalid credentials"
    case .sessionNotValid: "session not valid"
    case .rateLimited(let s, _): "rate limited; retry in \(s) s"
    case .loginLocked(let s): "too many failed logins; retry in \(s) s"
    }
}

/// The operator's name in audit records: `$USER` at the console.
var operatorName: String { "provider:" + (ProcessInfo.processInfo.environment["USER"] ?? "cli") }

// MARK: org

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

// MARK: key

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Show, add, disable, enable or regenerate an organization's key.",
        subcommands: [Show.self, Add.self, Disable.self, Enable.self, Regenerate.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a key to an organization that has none (after a delete, API access stays off until one is added).")
        @OptionGroup var common: CommonOptions
        @Option(help: "Organization name or id.") var org: String
        @Option(help: "The key string (12 of A-Z a-z 0-9); random when omitted.") var value: String?

        func run() async throws {
            try await withRuntime(common) { runtime in
                let organization = try await runtime.keygate.findOrganization(org)
                let key = try await runtime.keygate.addKey(orgID: organization.id, value: value, actor: .provider(name: operatorName))
                let out = KeyOutput(key, org: organization, reveal: true)
                Output.emit(common.json, out) { out.text }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the key (masked unless --reveal).")
        @OptionGroup var common: CommonOptions
        @Option(help: "Organization name or id.") var org: String
        @Flag(help: "Print the whole key.") var reveal = false

        func run() async throws {
            try await withRuntime(common) { runtime in
                let organization = try await runtime.keygate.findOrganization(org)
                guard let key = try await runtime.keygate.currentKey(orgID: organization.id) else {
                    throw KeygateError.notFound("\(organization.name) has no API key")
                }
                let out = KeyOutput(key, org: organization, reveal: reveal)
                Output.emit(common.json, out) { out.text }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable the key: it authenticates nothing and its sessions end now.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Organization name or id.") var org: String

        func run() async throws { try await setEnabled(common, org, false) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled key.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Organization name or id.") var org: String

        func run() async throws { try await setEnabled(common, org, true) }
    }

    static func setEnabled(_ common: CommonOptions, _ org: String, _ enabled: Bool) async throws {
        try await withRuntime(common) { runtime in
            let organization = try await runtime.keygate.findOrganization(org)
            let (key, ended) = try await runtime.keygate.providerSetKeyEnabled(orgID: organization.id, enabled: enabled, operator: operatorName)
            let out = KeyOutput(key, org: organization, reveal: false)
            Output.emit(common.json, out) { out.text + (enabled ? "" : "\nsessions ended: \(ended)") }
        }
    }

    struct Regenerate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace the key with a random one; old sessions end per the rotation policy.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Organization name or id.") var org: String

        func run() async throws {
            try await withRuntime(common) { runtime in
                let organization = try await runtime.keygate.findOrganization(org)
                let (key, ended) = try await runtime.keygate.providerRegenerateKey(orgID: organization.id, operator: operatorName)
                let out = KeyOutput(key, org: organization, reveal: true)
                Output.emit(common.json, out) { out.text + "\nsessions ended: \(ended)" }
            }
        }
    }
}

// MARK: admin

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
        @OptionGroup var common: CommonOptions
        @Option(help: "Organization name or id.") var org: String
        @Option(help: "Login name.") var login: String
        @Option(help: "Role name (default: Super Admin).") var role: String = "Super Admin"
        @Option(help: "Display name (default: the login name).") var name: String?
        @Flag(help: "Read the password from standard input instead of generating one.") var passwordStdin = false

        func run() async throws {
            let given = passwordStdin ? try readPasswordFromStdin() : nil
            try await withRuntime(common) { runtime in
                let organization = try await runtime.keygate.findOrganization(org)
                let roleValue = try await runtime.keygate.role(orgID: organization.id, named: role)
                let password = given ?? PasswordPolicy.generate()
                let admin = try await runtime.keygate.createAdmin(
                    orgID: organization.id,
                    draft: AdminDraft(loginName: login, userName: name ?? login, roleID: roleValue.id, password: password),
                    actor: .provider(name: operatorName))
                var out = ["id": "\(admin.id)", "loginName": admin.loginName]
                if given == nil { out["password"] = password }  // a password given on standard input is not echoed
                Output.emit(common.json, out) {
                    "admin \(admin.loginName) (id \(admin.id)) created" + (given == nil ? "; password: \(password)" : "")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List admins.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Organization name or id.") var org: String

        func run() async throws {
            try await withRuntime(common) { runtime in
                let organization = try await runtime.keygate.findOrganization(org)
                let roles = Dictionary(uniqueKeysWithValues: try await runtime.keygate.roles(orgID: organization.id).map { ($0.id, $0.name) })
                let rows = try await runtime.keygate.admins(orgID: organization.id).map {
                    Row(id: $0.id, loginName: $0.loginName, userName: $0.userName, role: roles[$0.roleID] ?? "", disabled: $0.disabled)
                }
                Output.emit(common.json, rows) {
                    (["ID\tLOGIN\tNAME\tROLE\tSTATUS"]
                        + rows.map { "\($0.id)\t\($0.loginName)\t\($0.userName)\t\($0.role)\t\($0.disabled ? "Disabled" : "Enabled")" })
                        .joined(separator: "\n")
                }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an admin; their sessions end now.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Organization name or id.") var org: String
        @Option(help: "Login name.") var login: String

        func run() async throws { try await setDisabled(common, org, login, true) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled admin.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Organization name or id.") var org: String
        @Option(help: "Login name.") var login: String

        func run() async throws { try await setDisabled(common, org, login, false) }
    }

    static func setDisabled(_ common: CommonOptions, _ org: String, _ login: String, _ disabled: Bool) async throws {
        try await withRuntime(common) { runtime in
            let organization = try await runtime.keygate.findOrganization(org)
            let admin = try await runtime.keygate.admin(orgID: organization.id, loginName: login)
            let updated = try await runtime.keygate.updateAdmin(
                current: admin, draft: AdminDraft(disabled: disabled), actor: .provider(name: operatorName))
            Output.emit(common.json, ["loginName": updated.loginName, "disabled": "\(updated.disabled)"]) {
                "admin \(updated.loginName): \(updated.disabled ? "disabled" : "enabled")"
            }
        }
    }
}

// MARK: audit

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Show an organization's audit trail, newest first.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Organization name or id.") var org: String
    @Option(help: "Only actions starting with this, e.g. key. or session.") var action: String?
    @Option(help: "At most this many events.") var limit: Int = 100

    struct Row: Encodable {
        let id: Int64
        let at: String
        let actor: String
        let action: String
        let detail: String
    }

    func run() async throws {
        try await withRuntime(common) { runtime in
            let organization = try await runtime.keygate.findOrganization(org)
            let rows = try await runtime.keygate.auditTrail(orgID: organization.id, actionPrefix: action, limit: limit).map {
                Row(id: $0.id, at: Output.iso($0.at), actor: "\($0.actor.kind):\($0.actor.name)", action: $0.action, detail: $0.detail)
            }
            Output.emit(common.json, rows) {
                rows.map { "\($0.at)  \($0.action)  \($0.actor)  \($0.detail)" }.joined(separator: "\n")
            }
        }
    }
}

/// `keygate provider`: accounts of the provider console (`/provider` in a browser).
struct ProviderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provider", abstract: "Manage the provider console's operator accounts.",
        subcommands: [CreateOperator.self, ListOperators.self, DisableOperator.self, EnableOperator.self])

    struct DisableOperator: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "disable-operator", abstract: "Disable an operator: they cannot sign in, and their console sessions end now.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Login name.") var login: String

        func run() async throws {
            try await withRuntime(common) { runtime in
                try await runtime.keygate.setOperatorDisabled(loginName: login, disabled: true)
                Output.emit(common.json, ["login": login, "disabled": "true"]) { "operator \(login) disabled" }
            }
        }
    }

    struct EnableOperator: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enable-operator", abstract: "Enable a disabled operator again.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Login name.") var login: String

        func run() async throws {
            try await withRuntime(common) { runtime in
                try await runtime.keygate.setOperatorDisabled(loginName: login, disabled: false)
                Output.emit(common.json, ["login": login, "disabled": "false"]) { "operator \(login) enabled" }
            }
        }
    }

    struct Created: Encodable {
        let login: String
        /// Only a generated password is printed.
        let password: String?
        let console: String
    }

    struct CreateOperator: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-operator", abstract: "Create an operator who signs in to the provider console.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Login name.") var login: String
        @Flag(help: "Read the password from standard input instead of generating one.") var passwordStdin = false

        func run() async throws {
            let password = passwordStdin ? try readPasswordFromStdin() : nil
            try await withRuntime(common) { runtime in
                let (op, generated) = try await runtime.keygate.createOperator(loginName: login, password: password)
                let out = Created(login: op.loginName, password: passwordStdin ? nil : generated, console: "/provider")
                Output.emit(common.json, out) {
                    """
                    operator: \(out.login)
                    password: \(out.password ?? "(as given)")
                    sign in at <base URL>/provider
                    """
                }
            }
        }
    }

    struct ListOperators: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-operators", abstract: "List the console's operators.")
        @OptionGroup var common: CommonOptions

        struct Row: Encodable {
            let login: String
            let disabled: Bool
            let created: String
        }

        func run() async throws {
            try await withRuntime(common) { runtime in
                let rows = try await runtime.keygate.providerOperators().map {
                    Row(login: $0.loginName, disabled: $0.disabled, created: Output.iso($0.createdAt))
                }
                Output.emit(common.json, rows) {
                    rows.map { "\($0.login)\($0.disabled ? " (disabled)" : "")  created \($0.created)" }.joined(separator: "\n")
                }
            }
        }
    }
}

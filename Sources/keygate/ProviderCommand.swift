import ArgumentParser
import Foundation
import KeygateCore

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

        func run() async throws { try await ProviderCommand.setDisabled(common, login, true) }
    }

    struct EnableOperator: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enable-operator", abstract: "Enable a disabled operator again.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Login name.") var login: String

        func run() async throws { try await ProviderCommand.setDisabled(common, login, false) }
    }

    static func setDisabled(_ common: CommonOptions, _ login: String, _ disabled: Bool) async throws {
        try await withRuntime(common) { runtime in
            try await runtime.keygate.operators.setOperatorDisabled(runtime.provider, loginName: login, disabled: disabled)
            Output.emit(common.json, ["login": login, "disabled": "\(disabled)"]) { "operator \(login) \(disabled ? "disabled" : "enabled")" }
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
                let (op, generated) = try await runtime.keygate.operators.createOperator(runtime.provider, loginName: login, password: password)
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
                let rows = try await runtime.keygate.operators.providerOperators(runtime.provider).map {
                    Row(login: $0.loginName, disabled: $0.disabled, created: Output.iso($0.createdAt))
                }
                Output.emit(common.json, rows) {
                    rows.map { "\($0.login)\($0.disabled ? " (disabled)" : "")  created \($0.created)" }.joined(separator: "\n")
                }
            }
        }
    }
}

import ArgumentParser
import Foundation
import KeygateCore

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Show, add, disable, enable or regenerate an organization's key.",
        subcommands: [Show.self, Add.self, Disable.self, Enable.self, Regenerate.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a key to an organization that has none (after a delete, API access stays off until one is added).")
        @OptionGroup var org: OrganizationOptions
        @Option(help: "The key string (12 of A-Z a-z 0-9); random when omitted.") var value: String?

        func run() async throws {
            try await org.withOrganization { runtime, organization in
                let key = try await runtime.keygate.keys.addKey(runtime.provider, orgID: organization.id, value: value)
                let out = KeyOutput(key, org: organization, reveal: true)
                Output.emit(org.common.json, out) { out.text }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the key (masked unless --reveal).")
        @OptionGroup var org: OrganizationOptions
        @Flag(help: "Print the whole key.") var reveal = false

        func run() async throws {
            try await org.withOrganization { runtime, organization in
                guard let key = try await runtime.keygate.keys.currentKey(runtime.provider, orgID: organization.id) else {
                    throw KeygateError.notFound("\(organization.name) has no API key")
                }
                let out = KeyOutput(key, org: organization, reveal: reveal)
                Output.emit(org.common.json, out) { out.text }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable the key: it authenticates nothing and its sessions end now.")
        @OptionGroup var org: OrganizationOptions

        func run() async throws { try await setEnabled(org, false) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled key.")
        @OptionGroup var org: OrganizationOptions

        func run() async throws { try await setEnabled(org, true) }
    }

    static func setEnabled(_ org: OrganizationOptions, _ enabled: Bool) async throws {
        try await org.withOrganization { runtime, organization in
            let (key, ended) = try await runtime.keygate.keys.setKeyEnabled(runtime.provider, orgID: organization.id, enabled: enabled)
            let out = KeyOutput(key, org: organization, reveal: false)
            Output.emit(org.common.json, out) { out.text + (enabled ? "" : "\nsessions ended: \(ended)") }
        }
    }

    struct Regenerate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace the key with a random one; old sessions end per the rotation policy.")
        @OptionGroup var org: OrganizationOptions

        func run() async throws {
            try await org.withOrganization { runtime, organization in
                let (key, ended) = try await runtime.keygate.keys.regenerateKey(runtime.provider, orgID: organization.id)
                let out = KeyOutput(key, org: organization, reveal: true)
                Output.emit(org.common.json, out) { out.text + "\nsessions ended: \(ended)" }
            }
        }
    }
}

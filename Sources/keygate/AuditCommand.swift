import ArgumentParser
import Foundation
import KeygateCore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Show an organization's audit trail, newest first.")
    @OptionGroup var org: OrganizationOptions
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
        try await org.withOrganization { runtime, organization in
            let rows = try await runtime.keygate.audit.auditTrail(runtime.provider, orgID: organization.id, actionPrefix: action, limit: limit).map {
                Row(id: $0.id, at: Output.iso($0.at), actor: "\($0.actor.kind):\($0.actor.name)", action: $0.action, detail: $0.detail)
            }
            Output.emit(org.common.json, rows) {
                rows.map { "\($0.at)  \($0.action)  \($0.actor)  \($0.detail)" }.joined(separator: "\n")
            }
        }
    }
}

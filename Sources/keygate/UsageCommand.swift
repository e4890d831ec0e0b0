import ArgumentParser
import Foundation
import KeygateCore

/// `keygate usage --org ORG [--days N]`: API requests per admin, per day and key version, as the servers flushed them.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "API requests of an organization per admin, day and key version (written by the servers every usage.flushSeconds).")
    @OptionGroup var org: OrganizationOptions
    @Option(help: "Days, today included (UTC), 1-366.") var days = 7

    func run() async throws {
        guard (1...366).contains(days) else { throw ValidationError("--days must be 1-366") }
        try await org.withOrganization { runtime, organization in
            let report = try await runtime.keygate.usage.usageReport(runtime.provider, orgID: organization.id, days: days)
            let out = Out(organization: organization.name, report: report)
            Output.emit(org.common.json, out) { out.text }
        }
    }

    struct Out: Encodable {
        struct Admin: Encodable {
            let id: Int64
            let loginName: String?
            let today: Int64
            let period: Int64
        }
        struct Day: Encodable {
            let date: String
            let keyVersion: Int64
            let requests: Int64
        }
        let organization: String
        let days: Int
        let today: Int64
        let period: Int64
        let admins: [Admin]
        let byDay: [Day]

        init(organization: String, report: UsageReport) {
            self.organization = organization
            self.days = report.days
            self.today = report.today
            self.period = report.period
            self.admins = report.admins.map { Admin(id: $0.adminID, loginName: $0.loginName, today: $0.today, period: $0.period) }
            self.byDay = report.byDay.map { Day(date: $0.date, keyVersion: $0.keyVersion, requests: $0.requests) }
        }

        var text: String {
            var lines = ["\(organization): \(today) API requests today, \(period) in the last \(days) day(s) (UTC)"]
            if admins.isEmpty { return (lines + ["no API requests recorded"]).joined(separator: "\n") }
            lines.append("")
            lines.append(
                Output.table(
                    ["admin", "today", "\(days) days"], admins.map { [$0.loginName ?? "#\($0.id) (deleted)", "\($0.today)", "\($0.period)"] }))
            lines.append("")
            lines.append(Output.table(["date", "key version", "requests"], byDay.map { [$0.date, "\($0.keyVersion)", "\($0.requests)"] }))
            return lines.joined(separator: "\n")
        }
    }
}

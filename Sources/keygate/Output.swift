import Foundation
import KeygateCore
import KeygateStorage

/// Printing for the CLI: JSON with `--json`, readable text otherwise.
enum Output {
    static func printJSON(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if let data = try? encoder.encode(value) { print(String(decoding: data, as: UTF8.self)) }
        fflush(nil)
    }

    /// One value as compact JSON on one line (sorted keys), for JSON Lines and streamed arrays.
    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func emit(_ json: Bool, _ value: some Encodable, text: () -> String) {
        if json { printJSON(value) } else { print(text()) }
    }

    /// Rows under a header, each column as wide as its widest cell.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    static func iso(_ date: Date?) -> String {
        guard let date else { return "-" }
        return ISO8601DateFormatter().string(from: date)
    }
}

/// A key as the CLI prints it; the value only with `--reveal`.
struct KeyOutput: Encodable {
    let organization: String
    let id: Int64
    let key: String
    /// Increments on every change; with the audit trail it shows that no change was lost or doubled.
    let version: Int64
    let enabled: Bool
    let lastModifiedBy: String
    let lastModifiedOn: String
    let lastUsed: String

    init(_ key: APIKey, org: Organization, reveal: Bool) {
        self.organization = org.name
        self.id = key.id
        self.key = reveal ? key.value.rawValue : key.value.masked
        self.version = key.version
        self.enabled = key.enabled
        self.lastModifiedBy = key.lastModifiedBy.name
        self.lastModifiedOn = Output.iso(key.lastModifiedAt)
        self.lastUsed = Output.iso(key.lastUsedAt)
    }

    var text: String {
        "organization: \(organization)\nkey id: \(id) (version \(version))\nkey: \(key)\nstatus: \(enabled ? "Enabled" : "Disabled")\n"
            + "last modified by: \(lastModifiedBy)\nlast modified on: \(lastModifiedOn)\nlast used: \(lastUsed)"
    }
}

import Foundation

/// A column of the portal's API key table. Each admin chooses which to show and in what order; the choice is
/// stored server-side (``KeygateStore/setAdminPreference(adminID:name:value:)``), so it follows them to any
/// browser.
public enum KeyColumn: String, Sendable, CaseIterable {
    case key
    case lastModifiedBy
    case lastModifiedOn
    case status
    case lastUsed

    /// The column heading.
    public var title: String {
        switch self {
        case .key: "Key"
        case .lastModifiedBy: "Last Modified By"
        case .lastModifiedOn: "Last Modified On"
        case .status: "Status"
        case .lastUsed: "Last Used"
        }
    }

    /// The preference's name in storage.
    public static let preferenceName = "portal.keyColumns"

    /// Parses a stored or submitted choice: column names separated by commas, each known, none twice, at least one.
    /// - Throws: ``KeygateError/invalidInput(_:)`` naming what is wrong.
    public static func parse(_ text: String) throws -> [KeyColumn] {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var columns: [KeyColumn] = []
        for name in names {
            guard let column = KeyColumn(rawValue: name) else {
                throw KeygateError.invalidInput(
                    "unknown column \(name.prefix(40)); columns are \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard !columns.contains(column) else { throw KeygateError.invalidInput("column \(name) is listed twice") }
            columns.append(column)
        }
        guard !columns.isEmpty else { throw KeygateError.invalidInput("choose at least one column") }
        return columns
    }
}

import Foundation

// The API Key Management table's columns, chosen and ordered per admin and saved on the server.

/// The key table's columns, per admin.
public struct KeyColumnUseCases: UseCases {
    /// What this concept needs of storage (an admin's saved preferences), and no more: its use cases reach data only through it.
    let preferenceStorage: any PortalStore
    let environment: UseCaseEnvironment
}

extension KeyColumnUseCases {
    /// The caller's key-table columns, in order (all of them, in the default order, until they choose). Requires
    /// ``AccessRules/Action/viewKey``: they are the columns of the key table.
    public func keyColumns(_ principal: Principal) async throws -> [KeyColumn] {
        try principal.require(.viewKey)
        guard let stored = try await preferenceStorage.adminPreference(adminID: principal.admin.id, name: KeyColumn.preferenceName),
            let columns = try? KeyColumn.parse(stored)
        else { return KeyColumn.allCases }
        return columns
    }

    /// Saves the caller's key-table columns. Requires ``AccessRules/Action/manageOwnAccount``.
    /// - Throws: ``KeygateError/invalidInput(_:)`` for an unknown, repeated or empty choice (nothing saved).
    @discardableResult
    public func setKeyColumns(_ principal: Principal, choice: String) async throws -> [KeyColumn] {
        try principal.require(.manageOwnAccount)
        let columns = try KeyColumn.parse(choice)
        try await preferenceStorage.setAdminPreference(
            adminID: principal.admin.id, name: KeyColumn.preferenceName, value: columns.map(\.rawValue).joined(separator: ","))
        return columns
    }
}

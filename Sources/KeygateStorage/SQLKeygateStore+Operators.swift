import Foundation
import KeygateCore
import SQLKit

// MARK: Provider console

extension SQLKeygateStore: OperatorStore {
    public func insertOperator(_ op: ProviderOperator) async throws -> ProviderOperator {
        try await db.transaction(announcing: .nothing) { sql in
            var created = op
            created.id = try await Self.insertReturningID(
                sql,
                """
                INSERT INTO provider_operators (login_name, login_key, password_hash, disabled, created_at)
                VALUES (\(bind: op.loginName), \(bind: op.loginName.lowercased()), \(bind: op.passwordHash), \(bind: op.disabled ? 1 : 0),
                  \(bind: op.createdAt.millis))
                ON CONFLICT (login_key) DO NOTHING RETURNING id
                """,
                conflict: "an operator named \(op.loginName) already exists")
            return created
        }
    }

    static func providerOperator(_ row: any SQLRow) throws -> ProviderOperator {
        ProviderOperator(
            id: try row.decode(column: "id", as: Int64.self), loginName: try row.decode(column: "login_name", as: String.self),
            passwordHash: try row.decode(column: "password_hash", as: String.self),
            disabled: try row.decode(column: "disabled", as: Int.self) != 0,
            createdAt: Date(millis: try row.decode(column: "created_at", as: Int64.self)))
    }

    public func providerOperator(loginName: String) async throws -> ProviderOperator? {
        try await db.read { sql in
            try await sql.raw("SELECT * FROM provider_operators WHERE login_key = \(bind: loginName.lowercased())").first()
                .map(Self.providerOperator)
        }
    }

    public func providerOperators() async throws -> [ProviderOperator] {
        try await db.read { sql in
            try await sql.raw("SELECT * FROM provider_operators ORDER BY login_key").all().map(Self.providerOperator)
        }
    }

    public func setOperatorDisabled(loginName: String, disabled: Bool) async throws -> Bool {
        try await db.transaction(announcing: .nothing) { sql in
            guard
                let row = try await sql.raw(
                    """
                    UPDATE provider_operators SET disabled = \(bind: disabled ? 1 : 0) WHERE login_key = \(bind: loginName.lowercased())
                    RETURNING id
                    """
                ).first()
            else { return false }
            if disabled {
                let id = try row.decode(column: "id", as: Int64.self)
                try await sql.raw("DELETE FROM operator_sessions WHERE operator_id = \(bind: id)").run()
            }
            return true
        }
    }

    public func createOperatorSession(tokenHash: String, operatorID: Int64, at: Date) async throws {
        try await db.transaction(announcing: .nothing) { sql in
            try await sql.raw(
                """
                INSERT INTO operator_sessions (token_hash, operator_id, created_at, last_seen_at)
                VALUES (\(bind: tokenHash), \(bind: operatorID), \(bind: at.millis), \(bind: at.millis))
                """
            ).run()
        }
    }

    public func operatorSession(tokenHash: String) async throws -> (ProviderOperator, lastSeenAt: Date, createdAt: Date)? {
        try await db.read { sql in
            guard
                let row = try await sql.raw(
                    """
                    SELECT o.*, s.last_seen_at AS s_last_seen_at, s.created_at AS s_created_at FROM operator_sessions s JOIN provider_operators o ON o.id = s.operator_id
                    WHERE s.token_hash = \(bind: tokenHash)
                    """
                ).first()
            else { return nil }
            return (
                try Self.providerOperator(row), Date(millis: try row.decode(column: "s_last_seen_at", as: Int64.self)),
                Date(millis: try row.decode(column: "s_created_at", as: Int64.self))
            )
        }
    }

    public func touchOperatorSession(tokenHash: String, at: Date) async throws {
        try await db.transaction(announcing: .nothing) { sql in
            try await sql.raw("UPDATE operator_sessions SET last_seen_at = \(bind: at.millis) WHERE token_hash = \(bind: tokenHash)").run()
        }
    }

    public func deleteOperatorSessions(tokenHashes: [String], idleBefore: Date?) async throws -> Int {
        try await db.transaction(announcing: .nothing) { sql in
            var n = 0
            for hash in tokenHashes {
                n += try await sql.raw("DELETE FROM operator_sessions WHERE token_hash = \(bind: hash) RETURNING token_hash").all().count
            }
            if let idleBefore {
                n += try await sql.raw("DELETE FROM operator_sessions WHERE last_seen_at < \(bind: idleBefore.millis) RETURNING token_hash")
                    .all().count
            }
            return n
        }
    }
}

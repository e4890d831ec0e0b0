import Foundation
import KeygateCore
import SQLKit

// MARK: The key

extension SQLKeygateStore: KeyStore {
    public func sealedKey(orgID: Int64) async throws -> SealedAPIKey? {
        try await db.read { sql in
            try await sql.raw("SELECT * FROM api_keys WHERE org_id = \(bind: orgID)").first().map(Self.sealedKey)
        }
    }

    public func anySealedKey() async throws -> SealedAPIKey? {
        try await db.read { sql in try await sql.raw("SELECT * FROM api_keys ORDER BY id LIMIT 1").first().map(Self.sealedKey) }
    }

    public func sealedKeys(afterID: Int64, limit: Int) async throws -> [SealedAPIKey] {
        try await db.read { sql in
            try await sql.raw("SELECT * FROM api_keys WHERE id > \(bind: afterID) ORDER BY id LIMIT \(bind: limit)").all().map(Self.sealedKey)
        }
    }

    public func resealKeys(_ changes: [KeyReseal]) async throws -> Int {
        guard !changes.isEmpty else { return 0 }
        // Cached session snapshots carry the sealed text: each organization re-sealed is announced, so that none of its
        // sessions keeps the old text in memory past the old key; other organizations' stay cached.
        return try await db.transaction(announcingEach: changes.map { .organization(id: $0.orgID) }) { sql in
            var replaced = 0
            for change in changes {
                let rows = try await sql.raw(
                    """
                    UPDATE api_keys SET sealed_value = \(bind: change.to)
                    WHERE id = \(bind: change.id) AND sealed_value = \(bind: change.from) RETURNING id
                    """
                ).all()
                replaced += rows.count
            }
            return replaced
        }
    }

    public func applyKeyChange(_ change: KeyChange) async throws -> KeyChangeResult {
        try await db.transaction(announcing: .organization(id: change.orgID)) { sql in
            let current = try await sql.raw("SELECT * FROM api_keys WHERE org_id = \(bind: change.orgID)").first().map(Self.sealedKey)
            let actor = change.actor
            var ended = 0
            var result: SealedAPIKey?
            switch change.operation {
            case .add(let sealed):
                let id = try await Self.insertKey(sql, orgID: change.orgID, sealed: sealed, actor: actor, at: change.at)
                result = SealedAPIKey(
                    id: id, orgID: change.orgID, value: sealed, version: 1, enabled: true, lastModifiedBy: actor,
                    lastModifiedAt: change.at, lastUsedAt: nil)
            case .replace(let sealed, let expected):
                let key = try Self.expect(current, version: expected)
                try await Self.conditionalWrite(
                    sql,
                    """
                    UPDATE api_keys SET sealed_value = \(bind: sealed), version = \(bind: expected + 1),
                      modified_by_kind = \(bind: actor.kind), modified_by_id = \(bind: actor.adminID),
                      modified_by_name = \(bind: actor.name), modified_at = \(bind: change.at.millis)
                    WHERE id = \(bind: key.id) AND version = \(bind: expected) RETURNING id
                    """)
                result = SealedAPIKey(
                    id: key.id, orgID: key.orgID, value: sealed, version: expected + 1, enabled: key.enabled,
                    lastModifiedBy: actor, lastModifiedAt: change.at, lastUsedAt: key.lastUsedAt)
            case .delete(let expected):
                let key = try Self.expect(current, version: expected)
                try await Self.conditionalWrite(
                    sql, "DELETE FROM api_keys WHERE id = \(bind: key.id) AND version = \(bind: expected) RETURNING id")
            case .setEnabled(let enabled, let expected):
                let key = try Self.expect(current, version: expected)
                try await Self.conditionalWrite(
                    sql,
                    """
                    UPDATE api_keys SET enabled = \(bind: enabled ? 1 : 0), version = \(bind: expected + 1),
                      modified_by_kind = \(bind: actor.kind), modified_by_id = \(bind: actor.adminID),
                      modified_by_name = \(bind: actor.name), modified_at = \(bind: change.at.millis)
                    WHERE id = \(bind: key.id) AND version = \(bind: expected) RETURNING id
                    """)
                var updated = key
                updated.enabled = enabled
                updated.version = expected + 1
                updated.lastModifiedBy = actor
                updated.lastModifiedAt = change.at
                result = updated
            }
            switch change.sessionEffect {
            case .none:
                // A version bump without a session effect (enable) moves sessions along; there are none for a
                // disabled key, since disabling ended them.
                if let result {
                    try await sql.raw("UPDATE sessions SET key_version = \(bind: result.version) WHERE org_id = \(bind: change.orgID)").run()
                }
            case .endAll:
                ended = try await Self.count(sql, "SELECT COUNT(*) AS n FROM sessions WHERE org_id = \(bind: change.orgID)")
                try await sql.raw("DELETE FROM sessions WHERE org_id = \(bind: change.orgID)").run()
            case .rotate(let policy, let caller):
                guard let result else { break }
                let org = change.orgID
                let caller = caller ?? ""
                switch policy {
                case .endOldSessions:
                    ended = try await Self.count(
                        sql, "SELECT COUNT(*) AS n FROM sessions WHERE org_id = \(bind: org) AND token_hash <> \(bind: caller)")
                    try await sql.raw("DELETE FROM sessions WHERE org_id = \(bind: org) AND token_hash <> \(bind: caller)").run()
                case .keepOldSessions:
                    try await sql.raw("UPDATE sessions SET key_version = \(bind: result.version) WHERE org_id = \(bind: org)").run()
                case .grace(let seconds):
                    let until = change.at.addingTimeInterval(TimeInterval(seconds)).millis
                    try await sql.raw(
                        """
                        UPDATE sessions SET grace_until = \(bind: until) WHERE org_id = \(bind: org)
                          AND token_hash <> \(bind: caller) AND (grace_until IS NULL OR grace_until > \(bind: until))
                        """
                    ).run()
                }
                try await sql.raw(
                    "UPDATE sessions SET key_version = \(bind: result.version), grace_until = NULL WHERE token_hash = \(bind: caller)"
                ).run()
            }
            try await Self.write(sql, change.record(endedSessions: ended))
            return KeyChangeResult(key: result, endedSessions: ended)
        }
    }
}

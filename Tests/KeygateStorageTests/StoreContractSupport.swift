import Foundation
import KeygateCore
import Logging
import SQLKit
import Synchronization
import Testing

@testable import KeygateStorage

/// A backend the contract runs against. Each test gets a fresh, migrated database.
///
/// PostgreSQL joins when `KEYGATE_TEST_POSTGRES_URL` names a server (an account allowed to create databases);
/// `scripts/test` always starts a throwaway cluster and sets it, so every run covers both backends.
enum Backend: String, CaseIterable, CustomTestStringConvertible {
    case sqliteFile
    case sqliteMemory
    case postgres

    var testDescription: String { rawValue }

    static let postgresURL = ProcessInfo.processInfo.environment["KEYGATE_TEST_POSTGRES_URL"]

    /// The backends this run can reach.
    static var available: [Backend] { postgresURL == nil ? [.sqliteFile, .sqliteMemory] : allCases }

    /// A fresh, empty database: its URL (open it as often as a test needs processes) and its removal.
    func create() async throws -> (url: String, cleanup: @Sendable () async -> Void) {
        switch self {
        case .sqliteFile:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keygate-test-\(UUID().uuidString)")
            return (dir.appendingPathComponent("k.sqlite").path, { try? FileManager.default.removeItem(at: dir) })
        case .sqliteMemory:
            return (":memory:", {})
        case .postgres:
            let adminURL = try #require(Self.postgresURL)
            let name = "kg_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try await Storage.withDatabase(url: adminURL, logger: Logger.quiet("test"), migrate: false) { admin, _ in
                try await admin.read { try await $0.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
            }
            var components = try #require(URLComponents(string: adminURL))
            components.path = "/" + name
            return (
                try #require(components.string),
                {
                    try? await Storage.withDatabase(url: adminURL, logger: Logger.quiet("test"), migrate: false) { admin, _ in
                        _ = try? await admin.read { try await $0.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run() }
                    }
                }
            )
        }
    }

}

/// Runs `body` with a fresh store on `backend`, closing and removing it afterwards.
func withStore(_ backend: Backend, _ body: (any DatabaseHandle, SQLKeygateStore) async throws -> Void) async throws {
    let (url, cleanup) = try await backend.create()
    do {
        try await Storage.withDatabase(url: url, logger: Logger.quiet("test")) { db, store in try await body(db, store) }
        await cleanup()
    } catch {
        // PSQLError's description is deliberately generic; the reflection says which statement failed and why.
        if backend == .postgres { print("postgres error:", String(reflecting: error)) }
        await cleanup()
        throw error
    }
}

let t0 = Date(timeIntervalSince1970: 1_795_749_071)

/// Sends `count` simultaneous ``WindowCounters/acquire(_:)`` calls; returns how many were counted.
func simultaneousAcquires(_ counters: some WindowCounters, _ buckets: [CounterBucket], count: Int) async -> Int {
    await withTaskGroup(of: Bool.self) { group in
        for _ in 0..<count { group.addTask { (try? await counters.acquire(buckets)) == .some(nil) } }
        return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
    }
}

/// Provisions an organization with a key whose sealed text is `sealed-<org>`.
func provision(_ store: SQLKeygateStore, _ name: String = "Acme", key: Bool = true) async throws -> ProvisionedOrganization {
    try await store.createOrganization(
        name: name, superAdmin: NewAdmin(loginName: "Root@\(name)", userName: "Root", email: "r@x", passwordHash: "hash"),
        sealKey: key ? { @Sendable in "sealed-\($0)" } : nil, at: t0)
}

func session(_ token: String, _ org: ProvisionedOrganization, version: Int64 = 1, kind: SessionKind = .ztw, at: Date = t0) -> APISession {
    APISession(
        tokenHash: token, orgID: org.organization.id, adminID: org.admin.id, keyID: org.key?.id ?? 0, keyVersion: version,
        kind: kind, createdAt: at, lastSeenAt: at)
}

func audit(_ org: ProvisionedOrganization, _ action: AuditAction = .adminUpdated) -> AuditEvent {
    AuditEvent(orgID: org.organization.id, at: t0, actor: .provider(name: "p"), action: action, detail: "")
}

func change(_ org: ProvisionedOrganization, _ op: KeyChange.Operation, _ effect: KeyChange.SessionEffect = .none, action: AuditAction = .keyEdited)
    -> KeyChange
{
    KeyChange(
        orgID: org.organization.id, operation: op, sessionEffect: effect, actor: .admin(id: org.admin.id, name: "Root"), at: t0.addingTimeInterval(5),
        action: action, detail: "d")
}

extension Logger {
    /// A test logger at `warning`: the cases that expect connection failures (unreachable server, refused TLS)
    /// would otherwise fill the output with the driver's `info` lines about them.
    static func quiet(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        return logger
    }
}

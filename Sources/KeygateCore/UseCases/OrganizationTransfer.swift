import Foundation

// Bulk provisioning for a provider migrating in (`keygate org import`) and the way out (`keygate org export`).

/// One organization as read from an import file, before validation.
public struct OrganizationImportRecord: Sendable, Equatable {
    /// Where it came from (1-based line of the file), for error reports.
    public var line: Int
    /// Organization name (the idempotency key: a name that exists is skipped).
    public var organization: String
    /// The Super Admin's login name.
    public var login: String
    /// An existing bcrypt hash (`$2a$`, `$2b$` or `$2y$`), carried over as is.
    public var passwordHash: String?
    /// Or a password, hashed on import.
    public var password: String?
    /// The organization's key (12 characters of A-Z, a-z, 0-9); generated when absent.
    public var key: String?

    public init(line: Int, organization: String, login: String, passwordHash: String?, password: String?, key: String?) {
        self.line = line
        self.organization = organization
        self.login = login
        self.passwordHash = passwordHash
        self.password = password
        self.key = key
    }
}

/// What importing one record did.
public enum OrganizationImportOutcome: Sendable, Equatable {
    /// Provisioned, with this id.
    case created(orgID: Int64)
    /// An organization with this name already existed: nothing changed (so a rerun resumes an interrupted import).
    case existing
    /// Refused; nothing of it was written.
    case failed(String)
}

/// A validated organization for the store to create.
public struct NewOrganization: Sendable {
    /// Name.
    public var name: String
    /// Its Super Admin.
    public var superAdmin: NewAdmin
    /// Its key, in clear (the store seals it once the organization id is known).
    public var key: APIKeyValue

    public init(name: String, superAdmin: NewAdmin, key: APIKeyValue) {
        self.name = name
        self.superAdmin = superAdmin
        self.key = key
    }

    /// The audit event it is recorded with once stored (its id known only then); an import's organizations are
    /// provisioned like any other (``AuditAction/orgProvisioned``).
    public func provisionedEvent(orgID: Int64, at: Date, actor: ChangeActor) -> AuditEvent {
        AuditEvent(
            orgID: orgID, at: at, actor: actor, action: .orgProvisioned,
            detail: "organization \(name) with admin \(superAdmin.loginName) and its API key, imported")
    }
}

/// One organization as exported.
public struct ExportedOrganization: Sendable, Equatable, Codable {
    /// Organization name.
    public var organization: String
    /// Its Super Admin's login name (the oldest admin with the Super Admin role), nil when it has none.
    public var login: String?
    /// That admin's bcrypt hash: only with keys (`--with-keys`), as it is a credential.
    public var passwordHash: String?
    /// The key in clear: only with keys.
    public var key: String?
    /// Whether the key is enabled (nil: no key).
    public var keyEnabled: Bool?

    public init(organization: String, login: String?, passwordHash: String?, key: String?, keyEnabled: Bool?) {
        self.organization = organization
        self.login = login
        self.passwordHash = passwordHash
        self.key = key
        self.keyEnabled = keyEnabled
    }
}

/// An organization row with what an export needs, as stored.
public struct OrganizationExportRow: Sendable {
    public var organization: Organization
    public var superAdmin: Admin?
    public var key: SealedAPIKey?

    public init(organization: Organization, superAdmin: Admin?, key: SealedAPIKey?) {
        self.organization = organization
        self.superAdmin = superAdmin
        self.key = key
    }
}

extension OrganizationUseCases {
    /// Imports one batch of records, in one transaction.
    ///
    /// Each record is validated first (name and login rules, exactly one of a bcrypt hash or a password that meets the
    /// policy, a well-formed key if given); a refused record is reported and the rest go on. A name that exists is
    /// ``OrganizationImportOutcome/existing`` (imports are idempotent by name, so running the same file again resumes
    /// one that was interrupted: every batch committed whole or not at all). A name repeated within the batch, or a
    /// login name in use anywhere on the server, fails that record. Passwords are hashed in parallel, one per core.
    public func importOrganizations(_ provider: Provider, _ records: [OrganizationImportRecord]) async throws
        -> [OrganizationImportOutcome]
    {
        var outcomes = [OrganizationImportOutcome?](repeating: nil, count: records.count)
        var valid: [(index: Int, name: String, login: String, hash: String?, password: String?, key: APIKeyValue)] = []
        var seenNames: [String: Int] = [:]
        var seenLogins: [String: Int] = [:]
        for (index, record) in records.enumerated() {
            do {
                try Organization.validateName(record.organization)
                try Admin.validateLoginName(record.login)
                let hash = record.passwordHash.flatMap { $0.isEmpty ? nil : $0 }
                let password = record.password.flatMap { $0.isEmpty ? nil : $0 }
                switch (hash, password) {
                case (nil, nil): throw KeygateError.invalidInput("give passwordHash or password")
                case (.some, .some): throw KeygateError.invalidInput("give passwordHash or password, not both")
                case (.some(let hash), nil):
                    guard Self.isBcryptHash(hash) else {
                        throw KeygateError.invalidInput("passwordHash is not a bcrypt hash ($2a$, $2b$ or $2y$, cost 04-31, 53 characters)")
                    }
                case (nil, .some(let password)): try PasswordPolicy.validate(password)
                }
                let key = try record.key.flatMap { $0.isEmpty ? nil : $0 }.map { try APIKeyValue(validating: $0) } ?? APIKeyValue.generate()
                if let first = seenNames[record.organization.lowercased()] {
                    throw KeygateError.invalidInput("organization \(record.organization) is also on line \(records[first].line)")
                }
                if let first = seenLogins[record.login.lowercased()] {
                    throw KeygateError.invalidInput("login name \(record.login) is also on line \(records[first].line)")
                }
                seenNames[record.organization.lowercased()] = index
                seenLogins[record.login.lowercased()] = index
                valid.append((index, record.organization, record.login, hash, password, key))
            } catch let error as KeygateError {
                outcomes[index] = .failed(error.message)
            }
        }

        // Hash the given passwords, a few at a time (bcrypt is the cost of an import with passwords).
        let hasher = self.hasher
        var hashes: [Int: String] = [:]
        let toHash = valid.filter { $0.password != nil }
        let width = max(1, ProcessInfo.processInfo.activeProcessorCount)
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var pending = toHash.makeIterator()
            for _ in 0..<width {
                guard let next = pending.next() else { break }
                group.addTask { (next.index, try await hasher.hash(next.password!)) }
            }
            while let (index, hash) = try await group.next() {
                hashes[index] = hash
                if let next = pending.next() { group.addTask { (next.index, try await hasher.hash(next.password!)) } }
            }
        }

        let rows = valid.map { item in
            NewOrganization(
                name: item.name,
                superAdmin: NewAdmin(
                    loginName: item.login, userName: item.login, email: "", passwordHash: item.hash ?? hashes[item.index] ?? ""),
                key: item.key)
        }
        let cipher = self.cipher
        let stored = try await organizationStorage.importOrganizations(
            rows, sealKey: { orgID, key in try cipher.seal(key, orgID: orgID) }, operator: provider.name, at: now())
        for (item, outcome) in zip(valid, stored) { outcomes[item.index] = outcome }
        return outcomes.map { $0 ?? .failed("not imported") }
    }

    /// Organizations after `afterID` in id order, at most `limit`; keys and password hashes only `withKeys`.
    public func exportOrganizations(_ provider: Provider, afterID: Int64, limit: Int, withKeys: Bool) async throws -> (
        rows: [ExportedOrganization], lastID: Int64?
    ) {
        let stored = try await organizationStorage.organizationsForExport(afterID: afterID, limit: limit)
        let rows = try stored.map { row in
            ExportedOrganization(
                organization: row.organization.name, login: row.superAdmin?.loginName,
                passwordHash: withKeys ? row.superAdmin?.passwordHash : nil,
                key: withKeys ? try row.key.map { try cipher.open($0.value, orgID: $0.orgID).rawValue } : nil,
                keyEnabled: row.key?.enabled)
        }
        return (rows, stored.last?.organization.id)
    }

    /// Whether `hash` has bcrypt's modular-crypt shape: `$2a$`/`$2b$`/`$2y$`, a two-digit cost 04-31, then 53 characters
    /// of bcrypt's base-64 alphabet (22 of salt, 31 of hash).
    static func isBcryptHash(_ hash: String) -> Bool {
        let bytes = Array(hash.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
            [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]), bytes[3] == UInt8(ascii: "$"),
            bytes[6] == UInt8(ascii: "$"), let cost = Int(String(decoding: bytes[4..<6], as: UTF8.self)), (4...31).contains(cost)
        else { return false }
        let alphabet = Set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        return bytes[7...].allSatisfy(alphabet.contains)
    }
}

import ArgumentParser
import Foundation
import KeygateApp
import KeygateCore
import KeygateStorage
import Logging

/// `keygate backup --to FILE`: a consistent online copy of the SQLite database, verified, while the server keeps
/// writing. PostgreSQL has `pg_dump`; the command says how.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the SQLite database to a file while the server runs, and check that the copy restores.",
        discussion: """
            The copy is SQLite's VACUUM INTO: one consistent snapshot, whatever the server writes meanwhile. It is \
            written with mode 0600 and then checked: PRAGMA integrity_check, and every stored key and webhook secret \
            must open with the master key. The master key is not in the copy: back up the key file apart from it. \
            Restore: stop keygate, put the file in place of the database (and the same master key beside it), start. \
            On PostgreSQL use pg_dump (the command prints how).
            """)

    @OptionGroup var common: CommonOptions
    @Option(help: "Where to write the copy (must not exist).") var to: String

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: to) else { throw ValidationError("\(to) exists: a backup never overwrites a file") }
        // PostgreSQL is told apart before anything opens (or migrates) the database.
        let database = common.database ?? Runtime.configReader(flags: [:]).value(ConfigKeys.database)
        guard Storage.sqlitePath(database) != nil else { throw OperatorError(Self.postgresAdvice) }
        let target = URL(fileURLWithPath: to).standardizedFileURL
        // Written under a temporary name beside the target, checked, then linked to the target (which fails if a file
        // appeared there meanwhile): a copy cut off midway never looks like a backup.
        let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(getpid())").path
        try await withRuntime(common) { runtime in
            // An empty file, private to its owner, that VACUUM INTO fills (it keeps the mode).
            let fd = open(partial, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard fd >= 0 else { throw OperatorError("cannot create \(partial): \(String(cString: strerror(errno)))") }
            close(fd)
            defer { unlink(partial) }
            try await SQLiteBackup.copy(runtime.system.database, to: partial)
            var report = try await Self.verify(partial, with: runtime)
            guard link(partial, target.path) == 0 else {
                throw OperatorError("cannot write \(target.path): \(String(cString: strerror(errno))) (nothing was written there)")
            }
            report.file = target.path
            Output.emit(common.json, report) { report.text }
        }
    }

    struct Report: Encodable {
        var file: String
        let bytes: Int
        let mode: String
        let integrity: String
        let organizations: Int
        let apiKeys: Int
        let masterKeyFile: String?
        /// Stored keys still sealed under a previous master key (a rotation under way): the restore needs that key too.
        let underPreviousKey: Int
        let reminder = "The master key is not in the backup: keep a copy of it apart from the backup; without it the keys cannot be opened."

        var text: String {
            """
            backup written: \(file) (\(bytes) bytes, mode \(mode))
            integrity: \(integrity); \(organizations) organization(s), \(apiKeys) API key(s), every stored key and webhook secret opens with the master key
            \(reminder)\(masterKeyFile.map { " (\($0))" } ?? "")\(underPreviousKey > 0 ? "\n\(underPreviousKey) stored key(s) are still sealed under the previous master key (a rotation is under way): keep the .previous key file with this backup too" : "")
            restore: stop keygate, put the file in place of the database with the same master key, start keygate
            """
        }
    }

    /// Opens the copy on its own and checks it: SQLite's integrity check, and every stored key and webhook secret opens
    /// with the running configuration's master keyring.
    static func verify(_ path: String, with runtime: Runtime) async throws -> Report {
        var logger = Logger(label: "keygate-backup")
        logger.logLevel = .warning
        return try await Storage.withDatabase(url: path, logger: logger, migrate: false) { db, store in
            let integrity = try await SQLiteBackup.integrityCheck(db)
            guard integrity == ["ok"] else { throw OperatorError("the backup fails SQLite's integrity check: \(integrity.prefix(5))") }
            let live = runtime.keygate
            let copy = Keygate(store: store, cipher: live.cipher, hasher: live.environment.hasher, decoys: live.environment.decoys)
            let failing = try await copy.masterKeys.storedKeysThatDoNotOpen()
            guard failing.isEmpty else {
                throw OperatorError("stored keys of organizations \(failing) do not open with this master key: the backup would not restore")
            }
            let census = try await copy.masterKeys.storedKeyCensus()
            let keys = census.values.reduce(0, +)
            let underPrevious = census.filter { $0.key != live.cipher.primaryKeyID && $0.key != "v1" }.values.reduce(0, +)
            let organizations = try await store.countOrganizations(namePrefix: "", cap: .max)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let mode = (attributes[.posixPermissions] as? Int).map { String($0, radix: 8) } ?? "?"
            return Report(
                file: path, bytes: (attributes[.size] as? Int) ?? 0, mode: "0" + mode, integrity: "ok", organizations: organizations, apiKeys: keys,
                masterKeyFile: runtime.config.value(ConfigKeys.masterKeyFile), underPreviousKey: underPrevious)
        }
    }

    static let postgresAdvice = """
        keygate backup copies the SQLite database; on PostgreSQL use pg_dump, which takes a consistent snapshot while \
        the servers run:
          pg_dump --format=custom --file=keygate.dump "$KEYGATE_DATABASE"
        and to restore into an empty database (servers stopped), then start the servers with the same master key:
          pg_restore --no-owner --dbname="$KEYGATE_DATABASE" keygate.dump
        The master key is not in the dump: back it up apart from it.
        """
}

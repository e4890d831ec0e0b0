import ArgumentParser
import Foundation
import KeygateStorage
import Logging

/// `keygate migrate-data --from URL --to URL`: copies a whole deployment into a new, empty database, e.g. the
/// embedded SQLite file into PostgreSQL when one instance is no longer enough.
struct MigrateData: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-data",
        abstract: "Copy every organization, key, admin, session and audit event into a new, empty database.",
        discussion: """
            Stop the servers using the source first (a copy taken while keys change would miss the changes). Ids are \
            kept, so the same master key opens the copied keys: run the new instances with the master key of the \
            source. Prints a progress bar on standard error and, at the end, the row count of every table in both \
            databases; exits non-zero if any differs.
            """)

    @Option(help: "Source database URL or SQLite path.") var from: String
    @Option(help: "Target database URL or SQLite path (created and migrated if new; must hold no organization).") var to: String
    @Option(help: "Rows per transaction.") var batchSize: Int = 500
    @Flag(help: "Print the verification as JSON.") var json = false

    func validate() throws {
        guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be 1-100000") }
        guard from != to else { throw ValidationError("--from and --to name the same database") }
        if let path = Runtime.sqliteFile(from), !FileManager.default.fileExists(atPath: path) {
            throw OperatorError("there is no Keygate database at \(path) (--from)")
        }
    }

    func run() async throws {
        var logger = Logger(label: "keygate")
        logger.logLevel = .warning
        let interactive = isatty(STDERR_FILENO) != 0
        let counts = try await Storage.withDatabase(url: from, logger: logger) { source, _ in
            try await Storage.withDatabase(url: to, logger: logger) { target, _ in
                try await DataCopier.copy(from: source, to: target, batchSize: batchSize) { table, copied, total in
                    Self.progress(table: table, copied: copied, total: total, interactive: interactive)
                }
            }
        }
        let mismatched = counts.filter { $0.source != $0.target }
        if json {
            Output.printJSON(counts.map { ["table": $0.table, "source": "\($0.source)", "target": "\($0.target)"] })
        } else {
            print("verification (rows in source / target):")
            for c in counts {
                print(
                    "  \(c.table.padding(toLength: 16, withPad: " ", startingAt: 0)) \(c.source) / \(c.target)\(c.source == c.target ? "" : "  MISMATCH")"
                )
            }
            print(mismatched.isEmpty ? "all tables match" : "\(mismatched.count) table(s) differ")
        }
        if !mismatched.isEmpty { throw ExitCode(1) }
    }

    /// A progress bar per table on standard error: redrawn in place on a terminal, one line per table otherwise.
    static func progress(table: String, copied: Int, total: Int, interactive: Bool) {
        let width = 30
        let filled = total == 0 ? width : width * copied / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = "\(table.padding(toLength: 16, withPad: " ", startingAt: 0)) [\(bar)] \(copied)/\(total)"
        if interactive {
            FileHandle.standardError.write(Data(("\r" + line + (copied >= total ? "\n" : "")).utf8))
        } else if copied >= total {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}

import ArgumentParser
import Foundation
import KeygateCore

struct OrgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "Provision, list, import and export organizations.",
        subcommands: [Create.self, List.self, Import.self, Export.self, SetRotationPolicy.self])

    struct ProvisionOutput: Encodable {
        let organizationId: Int64
        let organization: String
        let username: String
        /// Only a generated password is printed; one given on standard input is not echoed.
        let password: String?
        let apiKey: String
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Provision an organization, its Super Admin and its first key.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Organization name.") var name: String
        @Option(help: "Login name of the Super Admin.") var admin: String
        @Flag(help: "Read the admin's password from standard input instead of generating one.") var passwordStdin = false

        func run() async throws {
            let password = passwordStdin ? try readPasswordFromStdin() : nil
            try await withRuntime(common) { runtime in
                let result = try await runtime.keygate.organizations.provisionOrganization(
                    runtime.provider, name: name, adminLogin: admin, password: password)
                let out = ProvisionOutput(
                    organizationId: result.organization.id, organization: result.organization.name, username: result.admin.loginName,
                    password: passwordStdin ? nil : result.password, apiKey: result.key.value.rawValue)
                Output.emit(common.json, out) {
                    """
                    organization: \(out.organization) (id \(out.organizationId))
                    username:     \(out.username)
                    password:     \(out.password ?? "(as given)")
                    API key:      \(out.apiKey)
                    """
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List organizations in id order, a page at a time.",
            discussion: "Prints at most --limit organizations after --after; when more follow, standard error says how to get them.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Organizations per page (1-10000).") var limit = 1000
        @Option(help: "Start after this organization id.") var after: Int64 = 0
        @Flag(help: "Every organization, page after page.") var all = false

        struct Row: Encodable {
            let id: Int64
            let name: String
            let admins: Int
            let keyStatus: String
            let keyLastUsed: String
            let rotationPolicy: String
        }

        func run() async throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1-10000") }
            try await withRuntime(common) { runtime in
                var cursor = after
                var first = true
                if common.json { print("[", terminator: "") } else { print("ID\tNAME\tADMINS\tKEY\tLAST USED\tROTATION") }
                while true {
                    let page = try await runtime.keygate.organizations.organizationSummaries(runtime.provider, afterID: cursor, limit: limit + 1)
                    let shown = page.prefix(limit)
                    for s in shown {
                        let row = Row(
                            id: s.organization.id, name: s.organization.name, admins: s.adminCount,
                            keyStatus: s.keyEnabled.map { $0 ? "Enabled" : "Disabled" } ?? "No key",
                            keyLastUsed: Output.iso(s.keyLastUsedAt), rotationPolicy: s.organization.rotationPolicy.storedValue)
                        if common.json {
                            print(first ? "\n" : ",\n", terminator: "")
                            print(Output.json(row), terminator: "")
                        } else {
                            print("\(row.id)\t\(row.name)\t\(row.admins)\t\(row.keyStatus)\t\(row.keyLastUsed)\t\(row.rotationPolicy)")
                        }
                        first = false
                    }
                    guard page.count > limit, let last = shown.last else { break }
                    cursor = last.organization.id
                    if !all {
                        FileHandle.standardError.write(Data("more: keygate org list --after \(cursor)\n".utf8))
                        break
                    }
                }
                if common.json { print(first ? "]" : "\n]") }
                fflush(nil)
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Provision organizations from a JSON Lines or CSV file (idempotent by name).",
            discussion: """
                Each row: organization, login (its Super Admin), passwordHash (an existing bcrypt hash) or password, and \
                optionally key (12 characters of A-Z, a-z, 0-9; generated when absent). JSON Lines: one object per line \
                with those fields. CSV: a header naming the columns, then one row per line.
                Rows are imported in batches, each in one transaction. An organization whose name exists is skipped, so \
                running the same file again resumes an interrupted import. A bad row is reported (line and reason) and \
                the others go on; the exit status is 1 when any row failed. Progress goes to standard error.
                """)
        @OptionGroup var common: CommonOptions
        @Argument(help: "The file to import (- for standard input).") var file: String
        @Option(help: "jsonl or csv (default: from the file's extension).") var format: String?
        @Option(help: "Rows per transaction (1-10000).") var batch = 1000

        struct Failure: Encodable {
            let line: Int
            let organization: String
            let error: String
        }

        struct Summary: Encodable {
            var rows = 0
            var created = 0
            var existing = 0
            var failed: [Failure] = []
        }

        func run() async throws {
            guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be 1-10000") }
            let recordFormat = try RecordFormat.resolve(format, path: file)
            var summary = Summary()
            try await withRuntime(common) { runtime in
                let reader = try LineReader(path: file)
                var parser = RecordParser(format: recordFormat)
                let started = ContinuousClock.now
                var pending: [OrganizationImportRecord] = []
                func report(_ failure: Failure) {
                    summary.failed.append(failure)
                    FileHandle.standardError.write(Data("line \(failure.line): \(failure.organization): \(failure.error)\n".utf8))
                }
                func flush() async throws {
                    guard !pending.isEmpty else { return }
                    let outcomes: [OrganizationImportOutcome]
                    do {
                        outcomes = try await runtime.keygate.organizations.importOrganizations(runtime.provider, pending)
                    } catch let error as KeygateError {
                        // A concurrent writer took a name or login between the batch's checks and its inserts: the
                        // batch rolled back whole; once more sees what it took.
                        guard case .conflict = error else { throw error }
                        outcomes = try await runtime.keygate.organizations.importOrganizations(runtime.provider, pending)
                    }
                    for (record, outcome) in zip(pending, outcomes) {
                        switch outcome {
                        case .created: summary.created += 1
                        case .existing: summary.existing += 1
                        case .failed(let reason): report(Failure(line: record.line, organization: record.organization, error: reason))
                        }
                    }
                    pending.removeAll(keepingCapacity: true)
                    let seconds = max(0.001, (ContinuousClock.now - started) / .seconds(1))
                    FileHandle.standardError.write(
                        Data(
                            """
                            org import: \(summary.rows) rows, \(summary.created) created, \(summary.existing) existing, \
                            \(summary.failed.count) failed (\(Int(Double(summary.rows) / seconds)) rows/s)\n
                            """.utf8))
                }
                while let text = reader.next() {
                    switch parser.parse(text, line: reader.lineNumber) {
                    case nil: continue
                    case .failure(let error):
                        summary.rows += 1
                        report(Failure(line: reader.lineNumber, organization: "", error: error.message))
                    case .success(let record):
                        summary.rows += 1
                        pending.append(record)
                        if pending.count >= batch { try await flush() }
                    }
                }
                try await flush()
                Output.emit(common.json, summary) {
                    "imported: \(summary.created) created, \(summary.existing) already there, \(summary.failed.count) failed, of \(summary.rows) rows"
                }
            }
            if !summary.failed.isEmpty { throw ExitCode(1) }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every organization as JSON Lines or CSV, in the format org import reads.",
            discussion: """
                Without --with-keys no secret is written: organization, login (the Super Admin), keyEnabled. With it, \
                each row also carries the Super Admin's bcrypt hash and the key in clear, ready for org import on \
                another server; keep that file as you keep the master key.
                """)
        @OptionGroup var common: CommonOptions
        @Option(help: "jsonl (default) or csv.") var format = "jsonl"
        @Flag(help: "Include each key in clear and the Super Admin's password hash.") var withKeys = false

        func run() async throws {
            let recordFormat = try RecordFormat.resolve(format, path: "")
            try await withRuntime(common) { runtime in
                if recordFormat == .csv { print(withKeys ? "organization,login,passwordHash,key,keyEnabled" : "organization,login,keyEnabled") }
                var after: Int64 = 0
                var written = 0
                while true {
                    let (rows, last) = try await runtime.keygate.organizations.exportOrganizations(
                        runtime.provider, afterID: after, limit: 1000, withKeys: withKeys)
                    guard let last else { break }
                    for row in rows {
                        switch recordFormat {
                        case .jsonl: print(Output.json(row))
                        case .csv:
                            let enabled = row.keyEnabled.map { $0 ? "true" : "false" } ?? ""
                            let fields =
                                withKeys
                                ? [row.organization, row.login, row.passwordHash, row.key, enabled] : [row.organization, row.login, enabled]
                            print(fields.map(RecordParser.csvField).joined(separator: ","))
                        }
                    }
                    written += rows.count
                    after = last
                    FileHandle.standardError.write(Data("org export: \(written) organizations\n".utf8))
                }
                fflush(nil)
            }
        }
    }

    struct SetRotationPolicy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-rotation-policy",
            abstract: "What a key rotation does to old sessions: end (default), keep, or grace:SECONDS.")
        @OptionGroup var org: OrganizationOptions
        @Option(help: "end | keep | grace:SECONDS (1-86400)") var policy: String

        func run() async throws {
            guard let parsed = RotationPolicy(storedValue: policy) else {
                throw ValidationError("--policy must be end, keep or grace:SECONDS (1-86400)")
            }
            try await org.withOrganization { runtime, organization in
                try await runtime.keygate.organizations.setRotationPolicy(runtime.provider, orgID: organization.id, policy: parsed)
                Output.emit(org.common.json, ["organization": organization.name, "rotationPolicy": parsed.storedValue]) {
                    "\(organization.name): rotation policy \(parsed.storedValue)"
                }
            }
        }
    }
}

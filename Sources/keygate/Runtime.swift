import ArgumentParser
import Configuration
import Foundation
import KeygateApp
import KeygateCore
import KeygateServer
import KeygateStorage
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Options every command shares. Declared without defaults so that unset flags fall through to the
/// environment (`KEYGATE_*`) and then to the defaults (the swift-configuration convention).
struct CommonOptions: ParsableArguments {
    @Option(help: "Database: a SQLite file path (env KEYGATE_DATABASE; default ./keygate-data/keygate.sqlite).")
    var database: String?

    @Option(help: "File holding the 32-byte master key, hex or base64 (env KEYGATE_MASTER_KEY_FILE; KEYGATE_MASTER_KEY holds the key itself).")
    var masterKeyFile: String?

    @Flag(help: "Print machine-readable JSON.")
    var json = false
}

/// Resolved configuration and the opened runtime.
///
/// Configuration keys (flag, then environment `KEYGATE_<KEY>` with dots and camelCase as underscores, then default)
/// are declared once, with their defaults, in ``ConfigKeys`` (KeygateCore) and read with `ConfigReader.value(_:)`;
/// `keygate config` lists them, and the README's table is `keygate config --markdown`.
struct Runtime {
    let config: ConfigReader
    let logger: Logger
    /// The composition root's product: the use cases, the database, the HTTP settings.
    let system: KeygateSystem
    let databasePath: String

    /// Builds the reader: flags first, then `KEYGATE_*` environment variables, then defaults.
    static func configReader(flags: [String: ConfigContent]) -> ConfigReader {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in flags { values[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = ConfigValue(value, isSecret: false) }
        return ConfigReader(providers: [
            InMemoryProvider(name: "flags", values: values),
            EnvironmentVariablesProvider(secretsSpecifier: .specific(["KEYGATE_MASTER_KEY"])).prefixKeys(with: ["keygate"]),
        ])
    }

    /// The process's logger: human-readable lines by default, one JSON object per line with `log.format=json`
    /// (``JSONLogHandler``); both escape what could forge a line or a field (``LogText``). Every other logger (each
    /// request's, the database driver's) derives from it. A line written while a request is handled carries its id
    /// (``RequestIDs/metadataProvider``).
    static func makeLogger(_ config: ConfigReader, label: String = "keygate") -> Logger {
        let format: KeygateLogHandler.Format = config.value(ConfigKeys.logFormat) == "json" ? .json : .text
        var logger = Logger(
            label: label, factory: { KeygateLogHandler(label: $0, format: format, metadataProvider: RequestIDs.metadataProvider) })
        logger.logLevel = Logger.Level(rawValue: config.value(ConfigKeys.logLevel)) ?? .info
        return logger
    }

    /// Reads the configuration, loads or creates the master key, opens the system (``KeygateSystem``, the
    /// composition root) from the resulting ``KeygateConfiguration`` and runs `body` with it; the database closes when
    /// `body` ends.
    /// - Parameters:
    ///   - sessionCache: whether to keep session snapshots in memory when `session.cache` allows it (the server does;
    ///     one-shot CLI commands do not).
    ///   - server: the HTTP settings (the server's; commands take the defaults, which they do not use).
    ///   - creates: whether this command may create a new SQLite database and its master key (`serve` and `migrate`
    ///     only, and they say so). Every other command refuses a database or a master key that is not there: a typo
    ///     in `--database` must not leave an empty database and a new key behind.
    static func with(
        _ options: CommonOptions, extraFlags: [String: ConfigContent] = [:], label: String = "keygate", sessionCache: Bool = false,
        creates: Bool = false, server: (ConfigReader) throws -> ServerSettings = { _ in ServerSettings() },
        _ body: (Runtime) async throws -> Void
    ) async throws {
        var flags = extraFlags
        if let database = options.database { flags["database"] = .string(database) }
        if let file = options.masterKeyFile { flags["masterKeyFile"] = .string(file) }
        let config = configReader(flags: flags)
        let logger = makeLogger(config, label: label)
        let database = config.value(ConfigKeys.database)
        let newFile = sqliteFile(database).map { !FileManager.default.fileExists(atPath: $0) } ?? false
        if newFile && !creates {
            throw OperatorError(
                "there is no Keygate database at \(sqliteFile(database) ?? database): check --database (or KEYGATE_DATABASE); "
                    + "`keygate serve` or `keygate migrate` creates a new one")
        }
        let configuration = try configuration(config, server: try server(config), creates: creates, serving: sessionCache, logger: logger)
        // The master key not opening the stored keys is a usage error; a command's own invalid input is its own.
        var started = false
        do {
            try await KeygateSystem.with(configuration, logger: logger, serving: sessionCache) { system in
                started = true
                if newFile { logger.notice("created a new database", metadata: ["file": "\(sqliteFile(database) ?? database)"]) }
                try await body(
                    Runtime(config: config, logger: logger, system: system, databasePath: Storage.redacted(configuration.database)))
            }
        } catch KeygateError.invalidInput(let message) where !started {
            throw ValidationError(message)
        }
    }

    /// The configuration value from flags, environment and defaults (the keys are listed above).
    static func configuration(
        _ config: ConfigReader, server: ServerSettings, creates: Bool, serving: Bool = false, logger: Logger
    ) throws -> KeygateConfiguration {
        let database = config.value(ConfigKeys.database)
        let primary = try loadMasterKey(config, database: database, creates: creates, logger: logger)
        let keyFile = masterKeyFile(config, database: database)
        var configuration = KeygateConfiguration(
            database: database, masterKey: primary,
            bcryptCost: config.value(ConfigKeys.bcryptCost),
            session: SessionSettings(
                ztwIdle: TimeInterval(config.value(ConfigKeys.sessionZTWIdleSeconds)),
                ziaIdle: TimeInterval(config.value(ConfigKeys.sessionZIAIdleSeconds)),
                timestampWindow: TimeInterval(config.value(ConfigKeys.loginTimestampWindowSeconds)),
                portalIdle: TimeInterval(config.value(ConfigKeys.portalIdleSeconds)),
                apiMaxLifetime: TimeInterval(config.value(ConfigKeys.sessionMaxLifetimeSeconds)),
                portalMaxLifetime: TimeInterval(config.value(ConfigKeys.portalMaxLifetimeSeconds))),
            loginLimits: LoginThrottle.Limits(
                perPair: config.value(ConfigKeys.loginMaxFailuresPerPair),
                perAddress: config.value(ConfigKeys.loginMaxFailuresPerAddress),
                perLoginName: config.value(ConfigKeys.loginMaxFailuresPerName),
                window: TimeInterval(config.value(ConfigKeys.loginLockoutSeconds)),
                familiarFor: TimeInterval(config.value(ConfigKeys.loginFamiliarDays) * 86_400)),
            sessionCache: config.value(ConfigKeys.sessionCache),
            sessionCacheSize: max(1, config.value(ConfigKeys.sessionCacheSize)),
            sharedRateCounters: config.value(ConfigKeys.rateLimitShared), server: server)
        configuration.usageEnabled = config.value(ConfigKeys.usageEnabled)
        // A server answers within the wait; a one-shot command (an import, a re-seal, a backup) waits as long as it takes.
        configuration.databaseNotifyURL = config.value(ConfigKeys.databaseNotifyURL, isSecret: true)
        configuration.databaseWait = serving ? .seconds(max(1, config.value(ConfigKeys.databaseWaitSeconds))) : .seconds(24 * 3600)
        var webhooks = WebhookSettings()
        webhooks.policy = .init(
            allowHTTP: config.value(ConfigKeys.webhooksAllowHTTP), allowPrivate: config.value(ConfigKeys.webhooksAllowPrivateTargets))
        webhooks.timeout = TimeInterval(max(1, config.value(ConfigKeys.webhooksTimeoutSeconds)))
        webhooks.retryBase = TimeInterval(max(1, config.value(ConfigKeys.webhooksRetryBaseSeconds)))
        webhooks.giveUpAfter = TimeInterval(max(1, config.value(ConfigKeys.webhooksRetryHours)) * 3600)
        webhooks.secretOverlap = TimeInterval(max(0, config.value(ConfigKeys.webhooksSecretOverlapHours)) * 3600)
        webhooks.disableAfterFailing = TimeInterval(max(1, config.value(ConfigKeys.webhooksDisableAfterFailingDays)) * 86_400)
        webhooks.maxPendingPerEndpoint = max(1, config.value(ConfigKeys.webhooksMaxPendingPerEndpoint))
        webhooks.maxPendingPerOrganization = max(1, config.value(ConfigKeys.webhooksMaxPendingPerOrganization))
        webhooks.maxInFlightPerOrganization = max(1, config.value(ConfigKeys.webhooksMaxInFlightPerOrganization))
        configuration.webhooks = webhooks
        configuration.usageFlushInterval = .seconds(max(1, config.value(ConfigKeys.usageFlushSeconds)))
        if let keyFile {
            configuration.previousMasterKeys = try readKeyring(file: keyFile).previous
            configuration.reloadKeyring = { try readKeyring(file: keyFile) }
        } else if let previous = config.value(ConfigKeys.masterKeyPrevious, isSecret: true) {
            configuration.previousMasterKeys = [try KeyCipher.parseMasterKey(previous)]
        }
        return configuration
    }

    /// The master key file in use; nil when the key is given inline (`KEYGATE_MASTER_KEY`).
    static func masterKeyFile(_ config: ConfigReader, database: String) -> String? {
        guard config.value(ConfigKeys.masterKey, isSecret: true) == nil else { return nil }
        let defaultFile =
            sqliteFile(database).map { URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("master.key").path }
            ?? "./keygate-data/master.key"
        return config.string(forKey: ConfigKey(ConfigKeys.masterKeyFile.name), default: defaultFile)
    }

    /// The keyring a key file names: the file's key seals, and `<file>.previous`, when there, still opens (the key a
    /// rotation moves away from; see `keygate master-key rotate`).
    static func readKeyring(file: String) throws -> MasterKeyring {
        guard let text = try readMasterKeyFile(file) else {
            throw ValidationError("cannot read the master key file \(file)")
        }
        var ring = MasterKeyring(primary: try KeyCipher.parseMasterKey(text))
        if let previous = try readMasterKeyFile(file + ".previous") {
            ring.previous = [try KeyCipher.parseMasterKey(previous)]
        }
        return ring
    }

    /// The file of a SQLite database; nil for PostgreSQL and `:memory:` (``Storage/sqlitePath(_:)``).
    static func sqliteFile(_ database: String) -> String? {
        Storage.sqlitePath(database).flatMap { $0 == ":memory:" ? nil : $0 }
    }

    /// The master key: `KEYGATE_MASTER_KEY`, else the key file, else `<database dir>/master.key`. Only a command that
    /// `creates` (serve, migrate) on SQLite makes a new one when there is none (mode 0600, with a log line saying where);
    /// every other command, and every PostgreSQL deployment, refuses to start without it: instances sharing a database
    /// must share one key, so none may invent its own. The key never appears in logs.
    static func loadMasterKey(_ config: ConfigReader, database: String, creates: Bool, logger: Logger) throws -> [UInt8] {
        if let inline = config.value(ConfigKeys.masterKey, isSecret: true) {
            return try KeyCipher.parseMasterKey(inline)
        }
        let file = masterKeyFile(config, database: database) ?? "./keygate-data/master.key"
        if let text = try readMasterKeyFile(file) {
            return try KeyCipher.parseMasterKey(text)
        }
        if database.hasPrefix("postgres") {
            throw OperatorError(
                "no master key at \(file): instances sharing a PostgreSQL database must share one key, so Keygate never makes "
                    + "one for PostgreSQL. Create it once (`openssl rand -hex 32 > master.key`, mode 0600) and give every instance "
                    + "and command the same file (--master-key-file or KEYGATE_MASTER_KEY_FILE)")
        }
        guard creates || database == ":memory:" else {
            throw OperatorError(
                "no master key at \(file): give the one this database was created with (--master-key-file, "
                    + "KEYGATE_MASTER_KEY_FILE or KEYGATE_MASTER_KEY)")
        }
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let hex = KeyCipher.generateMasterKeyHex()
        // Exclusive: two processes starting on a new directory must not both write a key (the loser reads the winner's),
        // and the file is 0600 from its first byte (no window in which it is readable by others).
        guard try writeKeyFile(file, hex: hex, exclusive: true) else {
            guard let text = try readMasterKeyFile(file) else {
                throw ValidationError("cannot read the master key file \(file)")
            }
            return try KeyCipher.parseMasterKey(text)
        }
        logger.notice(
            "generated a new master key; back it up, apart from the database and its backups (which never hold it): without it the stored API keys cannot be decrypted",
            metadata: ["file": "\(file)"])
        return try KeyCipher.parseMasterKey(hex)
    }

    /// The master key file in use; nil when the key is given inline.
    var masterKeyFile: String? {
        Self.masterKeyFile(config, database: config.value(ConfigKeys.database))
    }

    /// The keyring as configured now: from the key files, or inline (`KEYGATE_MASTER_KEY`, `KEYGATE_MASTER_KEY_PREVIOUS`).
    static func readKeyringOrInline(_ runtime: Runtime) throws -> MasterKeyring {
        if let file = runtime.masterKeyFile { return try readKeyring(file: file) }
        var ring = MasterKeyring(primary: try KeyCipher.parseMasterKey(runtime.config.value(ConfigKeys.masterKey, isSecret: true) ?? ""))
        if let previous = runtime.config.value(ConfigKeys.masterKeyPrevious, isSecret: true) {
            ring.previous = [try KeyCipher.parseMasterKey(previous)]
        }
        return ring
    }

    /// The use cases: the only way to the data (the store itself is not kept here).
    var keygate: Keygate { system.keygate }

    /// The provider's authority: the operator runs this command where the database and the master key are. The audit
    /// trail records them as `provider:<user>`.
    var provider: Provider { keygate.commandLineProvider(operator: operatorName) }

}

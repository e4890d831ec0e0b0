import ArgumentParser
import Configuration
import Foundation
import Hummingbird
import KeygateApp
import KeygateCore
import KeygateServer
import KeygateStorage
import Logging

/// `keygate serve`: runs the server. On a brand-new database it provisions a demo organization and prints how
/// to log in.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Keygate server.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Address to listen on (env KEYGATE_HOST; default 127.0.0.1).") var host: String?
    @Option(help: "Port (env KEYGATE_PORT; default 8080; 0 picks a free one).") var port: Int?
    @Option(help: "PEM certificate chain: serve HTTPS (env KEYGATE_TLS_CERT).") var tlsCert: String?
    @Option(help: "PEM private key for --tls-cert (env KEYGATE_TLS_KEY).") var tlsKey: String?
    @Flag(help: "Skip the demo organization on a new database.") var noDemo = false

    func run() async throws {
        var flags: [String: ConfigContent] = [:]
        if let host { flags["host"] = .string(host) }
        if let port { flags["port"] = .int(port) }
        if let tlsCert { flags["tls.cert"] = .string(tlsCert) }
        if let tlsKey { flags["tls.key"] = .string(tlsKey) }
        // The database is open around the whole service group (``KeygateSystem/with(_:logger:serving:_:)``): it closes
        // after the HTTP server has drained and every service has stopped.
        let watchdog = ShutdownWatchdog()
        defer { watchdog.disarm() }
        try await Runtime.with(common, extraFlags: flags, sessionCache: true, creates: true, server: Self.serverSettings) { runtime in
            let config = runtime.config
            let grace = try Self.shutdownGraceSeconds(config)  // checked before anything is provisioned or served
            let settings = runtime.system.settings
            let keygate = runtime.keygate

            var demo: ProvisioningResult?
            if !noDemo, try await !runtime.keygate.organizations.hasOrganizations(runtime.provider) {
                do {
                    demo = try await keygate.organizations.provisionOrganization(
                        keygate.commandLineProvider(operator: "keygate serve"), name: "Demo", adminLogin: "admin@demo", password: nil)
                } catch KeygateError.conflict {
                    // Another instance starting on the same new database provisioned it first; it printed the login.
                    demo = nil
                }
            }
            let provisioned = demo
            let scheme = settings.servesTLS ? "https" : "http"
            let publicURL = config.value(ConfigKeys.publicURL)
            let json = common.json
            let app = try runtime.system.application(
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? settings.port
                    let base = publicURL ?? "\(scheme)://\(settings.host == "0.0.0.0" ? "127.0.0.1" : settings.host):\(port)"
                    Self.printBanner(base: base, port: port, database: runtime.databasePath, demo: provisioned, json: json)
                })
            try await KeygateSystem.serve(
                app, grace: .seconds(grace), drain: settings.drain, readiness: settings.readiness, watchdog: watchdog, logger: runtime.logger)
        }
    }

    static func shutdownGraceSeconds(_ config: ConfigReader) throws -> Int {
        let grace = config.value(ConfigKeys.serverShutdownGraceSeconds)
        guard grace > 0 else { throw ValidationError("server.shutdownGraceSeconds must be positive") }
        return grace
    }

    static func serverSettings(_ config: ConfigReader) throws -> ServerSettings {
        let cert = config.value(ConfigKeys.tlsCert)
        let key = config.value(ConfigKeys.tlsKey)
        guard (cert == nil) == (key == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        let presetName = config.value(ConfigKeys.rateLimitPreset)
        guard var limits = RateLimiter.Limits.preset(presetName) else {
            throw ValidationError("ratelimit.preset must be generous, zscaler or off")
        }
        for c in RateLimiter.RequestClass.allCases {
            let scope = config.scoped(to: ["ratelimit", c.rawValue])
            if let perSecond = scope.int(forKey: "perSecond") { limits[c].short = perSecond; limits[c].shortWindow = 1 }
            if let perMinute = scope.int(forKey: "perMinute") { limits[c].short = perMinute; limits[c].shortWindow = 60 }
            if let perHour = scope.int(forKey: "perHour") { limits[c].perHour = perHour }
        }
        let port = config.value(ConfigKeys.port)
        guard (0...65535).contains(port) else { throw ValidationError("port must be 0-65535") }
        let publicURL = config.value(ConfigKeys.publicURL).map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        let proxies: TrustedProxies
        let clientHeaderName = config.value(ConfigKeys.proxyClientHeader)
        guard let clientHeader = TrustedProxies.ClientHeader(rawValue: clientHeaderName.lowercased()) else {
            throw ValidationError("proxy.clientHeader must be x-forwarded-for or forwarded")
        }
        do {
            proxies = try TrustedProxies(parsing: config.value(ConfigKeys.proxyTrustedAddresses), header: clientHeader)
        } catch {
            throw ValidationError("\(error)")
        }
        let idle = config.value(ConfigKeys.serverIdleTimeoutSeconds)
        let maxConnections = config.value(ConfigKeys.serverMaxConnections)
        guard idle > 0, maxConnections > 0 else { throw ValidationError("server.idleTimeoutSeconds and server.maxConnections must be positive") }
        var settings = ServerSettings(
            host: config.value(ConfigKeys.host), port: port, tlsCertificatePath: cert, tlsKeyPath: key,
            trustForwardedProto: config.value(ConfigKeys.proxyTrusted), rateLimits: limits,
            housekeepingInterval: .seconds(max(1, config.value(ConfigKeys.housekeepingIntervalSeconds))), publicURL: publicURL,
            trustedProxies: proxies, idleTimeout: .seconds(idle), maxConnections: maxConnections,
            browserLimits: (
                config.value(ConfigKeys.portalRequestsPerSecond), config.value(ConfigKeys.portalRequestsPerMinute)
            ))
        settings.allowedHosts = Set(
            config.value(ConfigKeys.serverAllowedHosts).split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            }
            .filter { !$0.isEmpty })
        settings.metrics.placement = try metricsPlacement(config, mainPort: port)
        let drain = config.value(ConfigKeys.serverDrainSeconds)
        guard drain >= 0 else { throw ValidationError("server.drainSeconds must not be negative") }
        settings.drain = .seconds(drain)
        return settings
    }

    /// Where `GET /metrics` is served (see ``MetricsSettings``).
    static func metricsPlacement(_ config: ConfigReader, mainPort: Int) throws -> MetricsSettings.Placement {
        guard config.value(ConfigKeys.metricsEnabled) else { return .off }
        guard let port = config.value(ConfigKeys.metricsPort) else { return .mainPort }
        guard (0...65535).contains(port) else { throw ValidationError("metrics.port must be 0-65535") }
        guard port == 0 || port != mainPort else { throw ValidationError("metrics.port must differ from port") }
        return .ownListener(host: config.value(ConfigKeys.metricsHost), port: port)
    }

    /// What a newcomer needs, on standard output (not the log): the base URL and, for a new database, the demo
    /// organization's login. The password is shown this once; it is stored only as a bcrypt hash.
    static func printBanner(base: String, port: Int, database: String, demo: ProvisioningResult?, json: Bool) {
        if json {
            var object: [String: String] = [
                "event": "listening", "baseUrl": base + "/api/v1", "portalUrl": base + "/portal", "port": String(port), "database": database,
            ]
            if let demo {
                object["organization"] = demo.organization.name
                object["username"] = demo.admin.loginName
                object["password"] = demo.password
                object["apiKey"] = demo.key.value.rawValue
            }
            Output.printJSON(object)
            return
        }
        print("Keygate is listening on \(base)  (database: \(database))")
        print("API base URL: \(base)/api/v1")
        print("Admin portal: \(base)/portal   (provider console: \(base)/provider, accounts from `keygate provider create-operator`)")
        if let demo {
            print("")
            print("A new database: provisioned the organization \"\(demo.organization.name)\".")
            print("  username: \(demo.admin.loginName)")
            print("  password: \(demo.password)   (shown once; change it with POST /api/v1/passwordChange)")
            print("  API key:  \(demo.key.value.rawValue)")
            print("")
            print("Log in with the Python SDK:")
            print(
                "  ZIA_OVERRIDE_URL=\(base) python3 -c \"from zscaler.oneapi_client import LegacyZIAClient as C; c=C({'username':'\(demo.admin.loginName)','password':'\(demo.password)','api_key':'\(demo.key.value.rawValue)','cloud':'keygate'}); print('session OK')\""
            )
        }
        fflush(nil)
    }
}

/// `keygate migrate`: applies pending schema migrations and reports the version.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply database migrations.")
    @OptionGroup var common: CommonOptions

    /// Opening the runtime migrates; this reports where the schema now stands.
    func run() async throws {
        try await withRuntime(common, creates: true) { runtime in
            Output.emit(common.json, ["database": runtime.databasePath, "schemaVersion": "\(Migrations.latestVersion)"]) {
                "database \(runtime.databasePath) is at schema version \(Migrations.latestVersion)"
            }
        }
    }
}

import Foundation

/// One configuration key: its name (flag, then environment `KEYGATE_<KEY>`, then this default, the swift-configuration
/// way), its default and its flag. Every key is declared once, in ``ConfigKeys``; the server, the CLI and the tests
/// read the name and the default from there, and the README's table is ``ConfigKeys/markdownTable()`` (a test
/// compares them).
public struct ConfigSetting<Value: Sendable>: Sendable, DocumentedSetting {
    /// The key, dotted (`session.ztwIdleSeconds`).
    public let name: String
    /// The value when neither a flag nor the environment sets it; nil: none.
    public let defaultValue: Value
    /// The command-line flag that sets it, when there is one.
    public let flag: String?
    /// How the default reads in the docs when it is not the value itself (derived from other keys, or per backend).
    let documentedDefault: String?

    init(name: String, defaultValue: Value, flag: String? = nil, documentedDefault: String? = nil) {
        self.name = name
        self.defaultValue = defaultValue
        self.flag = flag
        self.documentedDefault = documentedDefault
    }

    /// The default as the docs show it: `` `value` ``, or `none`.
    public var defaultText: String {
        if let documentedDefault { return documentedDefault }
        if let optional = defaultValue as? any OptionalProtocol, optional.isNone { return "none" }
        return "`\(Self.unwrapped(defaultValue))`"
    }

    private static func unwrapped(_ value: Any) -> Any {
        (value as? any OptionalProtocol)?.wrappedAny ?? value
    }
}

/// A key as the docs list it, whatever its type.
public protocol DocumentedSetting: Sendable {
    var name: String { get }
    var flag: String? { get }
    var defaultText: String { get }
}

protocol OptionalProtocol {
    var isNone: Bool { get }
    var wrappedAny: Any? { get }
}

extension Optional: OptionalProtocol {
    var isNone: Bool { self == nil }
    var wrappedAny: Any? { self.map { $0 as Any } }
}

/// A row of the README's configuration table: keys that go together, and what they mean.
public struct ConfigRow: Sendable {
    public let keys: [any DocumentedSetting]
    public let meaning: String
    /// The key cell when it names more than keys (a pattern, a file).
    let keyText: String?
    /// The default cell when it is not the keys' defaults.
    let defaultsText: String?

    init(_ keys: [any DocumentedSetting], _ meaning: String, keyText: String? = nil, defaultsText: String? = nil) {
        self.keys = keys
        self.meaning = meaning
        self.keyText = keyText
        self.defaultsText = defaultsText
    }

    /// The row in Markdown.
    var markdown: String {
        let keyCell = keyText ?? keys.map { key in "`\(key.name)`" + (key.flag.map { " (`\($0)`)" } ?? "") }.joined(separator: ", ")
        let defaults = keys.map(\.defaultText)
        let defaultCell = defaultsText ?? (Set(defaults) == ["none"] ? "none" : defaults.joined(separator: ", "))
        return "| \(keyCell) | \(defaultCell) | \(meaning) |"
    }
}

/// Every configuration key of Keygate, with its default, once.
public enum ConfigKeys {
    public static let database = ConfigSetting<String>(name: "database", defaultValue: "./keygate-data/keygate.sqlite", flag: "--database")
    public static let databaseWaitSeconds = ConfigSetting<Int>(name: "database.waitSeconds", defaultValue: 5)
    public static let databaseNotifyURL = ConfigSetting<String?>(name: "database.notifyUrl", defaultValue: nil)
    public static let masterKey = ConfigSetting<String?>(name: "masterKey", defaultValue: nil)
    public static let masterKeyFile = ConfigSetting<String?>(
        name: "masterKeyFile", defaultValue: nil, flag: "--master-key-file", documentedDefault: "`<database dir>/master.key`")
    public static let masterKeyPrevious = ConfigSetting<String?>(name: "masterKeyPrevious", defaultValue: nil)
    public static let host = ConfigSetting<String>(name: "host", defaultValue: "127.0.0.1", flag: "--host")
    public static let port = ConfigSetting<Int>(name: "port", defaultValue: 8080, flag: "--port")
    public static let tlsCert = ConfigSetting<String?>(name: "tls.cert", defaultValue: nil, flag: "--tls-cert")
    public static let tlsKey = ConfigSetting<String?>(name: "tls.key", defaultValue: nil, flag: "--tls-key")
    public static let proxyTrustedAddresses = ConfigSetting<String>(name: "proxy.trustedAddresses", defaultValue: "", documentedDefault: "none")
    public static let proxyClientHeader = ConfigSetting<String>(name: "proxy.clientHeader", defaultValue: "x-forwarded-for")
    public static let proxyTrusted = ConfigSetting<Bool>(name: "proxy.trusted", defaultValue: false)
    public static let serverIdleTimeoutSeconds = ConfigSetting<Int>(name: "server.idleTimeoutSeconds", defaultValue: 30)
    public static let serverMaxConnections = ConfigSetting<Int>(name: "server.maxConnections", defaultValue: 4096)
    public static let serverShutdownGraceSeconds = ConfigSetting<Int>(name: "server.shutdownGraceSeconds", defaultValue: 10)
    public static let serverDrainSeconds = ConfigSetting<Int>(name: "server.drainSeconds", defaultValue: 0)
    public static let portalRequestsPerSecond = ConfigSetting<Int>(name: "portal.requestsPerSecond", defaultValue: 20)
    public static let portalRequestsPerMinute = ConfigSetting<Int>(name: "portal.requestsPerMinute", defaultValue: 600)
    public static let publicURL = ConfigSetting<String?>(name: "publicUrl", defaultValue: nil, documentedDefault: "from host/port/TLS")
    public static let serverAllowedHosts = ConfigSetting<String>(name: "server.allowedHosts", defaultValue: "", documentedDefault: "none")
    public static let bcryptCost = ConfigSetting<Int>(name: "security.bcryptCost", defaultValue: 12)
    public static let sessionZTWIdleSeconds = ConfigSetting<Int>(name: "session.ztwIdleSeconds", defaultValue: 1800)
    public static let sessionZIAIdleSeconds = ConfigSetting<Int>(name: "session.ziaIdleSeconds", defaultValue: 300)
    public static let sessionMaxLifetimeSeconds = ConfigSetting<Int>(name: "session.maxLifetimeSeconds", defaultValue: 43_200)
    public static let portalMaxLifetimeSeconds = ConfigSetting<Int>(name: "portal.maxLifetimeSeconds", defaultValue: 43_200)
    public static let sessionCache = ConfigSetting<Bool>(name: "session.cache", defaultValue: true)
    public static let sessionCacheSize = ConfigSetting<Int>(name: "session.cacheSize", defaultValue: 10_000)
    public static let portalIdleSeconds = ConfigSetting<Int>(name: "portal.idleSeconds", defaultValue: 1800)
    public static let housekeepingIntervalSeconds = ConfigSetting<Int>(name: "housekeeping.intervalSeconds", defaultValue: 60)
    public static let loginTimestampWindowSeconds = ConfigSetting<Int>(name: "login.timestampWindowSeconds", defaultValue: 7200)
    public static let loginMaxFailuresPerPair = ConfigSetting<Int>(name: "login.maxFailuresPerPair", defaultValue: 5)
    public static let loginMaxFailuresPerAddress = ConfigSetting<Int>(name: "login.maxFailuresPerAddress", defaultValue: 20)
    public static let loginMaxFailuresPerName = ConfigSetting<Int>(name: "login.maxFailuresPerName", defaultValue: 20)
    public static let loginLockoutSeconds = ConfigSetting<Int>(name: "login.lockoutSeconds", defaultValue: 900)
    public static let loginFamiliarDays = ConfigSetting<Int>(name: "login.familiarDays", defaultValue: 30)
    public static let rateLimitPreset = ConfigSetting<String>(name: "ratelimit.preset", defaultValue: "generous")
    public static let rateLimitShared = ConfigSetting<Bool?>(
        name: "ratelimit.shared", defaultValue: nil, documentedDefault: "`true` on PostgreSQL, `false` on SQLite")
    public static let webhooksAllowHTTP = ConfigSetting<Bool>(name: "webhooks.allowHTTP", defaultValue: false)
    public static let webhooksAllowPrivateTargets = ConfigSetting<Bool>(name: "webhooks.allowPrivateTargets", defaultValue: false)
    public static let webhooksTimeoutSeconds = ConfigSetting<Int>(name: "webhooks.timeoutSeconds", defaultValue: 10)
    public static let webhooksRetryBaseSeconds = ConfigSetting<Int>(name: "webhooks.retryBaseSeconds", defaultValue: 30)
    public static let webhooksRetryHours = ConfigSetting<Int>(name: "webhooks.retryHours", defaultValue: 24)
    public static let webhooksSecretOverlapHours = ConfigSetting<Int>(name: "webhooks.secretOverlapHours", defaultValue: 24)
    public static let webhooksDisableAfterFailingDays = ConfigSetting<Int>(name: "webhooks.disableAfterFailingDays", defaultValue: 5)
    public static let webhooksMaxPendingPerEndpoint = ConfigSetting<Int>(name: "webhooks.maxPendingPerEndpoint", defaultValue: 1000)
    public static let webhooksMaxPendingPerOrganization = ConfigSetting<Int>(name: "webhooks.maxPendingPerOrganization", defaultValue: 5000)
    public static let webhooksMaxInFlightPerOrganization = ConfigSetting<Int>(name: "webhooks.maxInFlightPerOrganization", defaultValue: 4)
    public static let usageEnabled = ConfigSetting<Bool>(name: "usage.enabled", defaultValue: true)
    public static let usageFlushSeconds = ConfigSetting<Int>(name: "usage.flushSeconds", defaultValue: 60)
    public static let metricsEnabled = ConfigSetting<Bool>(name: "metrics.enabled", defaultValue: true)
    public static let metricsPort = ConfigSetting<Int?>(name: "metrics.port", defaultValue: nil)
    public static let metricsHost = ConfigSetting<String>(name: "metrics.host", defaultValue: "127.0.0.1")
    public static let logLevel = ConfigSetting<String>(name: "log.level", defaultValue: "info")
    public static let logFormat = ConfigSetting<String>(name: "log.format", defaultValue: "text")

    /// The README's configuration table, in its order: each key once.
    public static let rows: [ConfigRow] = [
        ConfigRow([database], "SQLite file, or `postgres://…` (see above)"),
        ConfigRow(
            [databaseNotifyURL],
            "PostgreSQL behind a transaction-pooling PgBouncer: a direct `postgres://` URL for the session cache's `LISTEN` (one connection); the main URL may then go through PgBouncer in transaction mode"
        ),
        ConfigRow(
            [databaseWaitSeconds],
            "PostgreSQL: how long a request waits for a connection and its answers before it gets `503` with `Retry-After` (a broken connection is `503` at once; an idempotent read is first tried once more on a fresh connection)"
        ),
        ConfigRow([masterKey], "the 32-byte master key itself, hex or base64 (secret; never logged)"),
        ConfigRow(
            [masterKeyFile],
            "SQLite: created with a random key (mode 0600) by the `serve` or `migrate` that creates the database, with a log line; back it up. PostgreSQL: must exist (never generated). A key file (or its `.previous`) that every user may read or write, or its group may write, is refused with the `chmod` that fixes it, as OpenSSH refuses such a private key; group read (`root:keygate 0640`) is allowed"
        ),
        ConfigRow(
            [masterKeyPrevious],
            "a master key that only opens, during a rotation (`keygate master-key rotate`); servers re-read the key files every 2 s",
            keyText: "`masterKeyPrevious`, `<masterKeyFile>.previous`"),
        ConfigRow([host, port], "listen address; port 0 picks a free one"),
        ConfigRow(
            [tlsCert, tlsKey],
            "PEM files: serve HTTPS only; re-read when they change (looked at every 2 s, and on SIGHUP) for new connections, a pair that does not load or match being refused with an error while the one in force keeps serving"
        ),
        ConfigRow(
            [proxyTrustedAddresses],
            "addresses and CIDR ranges of your proxies (`10.0.0.0/8, ::1`): from them the `proxy.clientHeader` names the client (the right-most hop that is not a trusted proxy) and `X-Forwarded-Proto` is believed; any other peer's headers are ignored"
        ),
        ConfigRow(
            [proxyClientHeader],
            "the one header your proxies write: `x-forwarded-for` (nginx, HAProxy, cloud balancers) or `forwarded` (RFC 7239). The other is ignored, since proxies pass a header they do not write through, and a client would pick its own address with it. A hop that is not an IP address (`unknown`, `_obfuscated`, anything else) counts as the proxy that wrote it"
        ),
        ConfigRow([proxyTrusted], "believe `X-Forwarded-Proto: https` from any peer (kept for existing setups; prefer `proxy.trustedAddresses`)"),
        ConfigRow(
            [serverIdleTimeoutSeconds, serverMaxConnections],
            "a connection that sends no complete request for this long is closed (slow clients); open connections at most"),
        ConfigRow(
            [serverShutdownGraceSeconds],
            "on SIGTERM or SIGINT, the process ends within this many seconds: in-flight requests may finish for all but the last 2 s (half of a bound under 4 s); then what still runs (a request waiting for a database that is away) is cancelled; at the bound the process exits anyway, status 0"
        ),
        ConfigRow(
            [serverDrainSeconds],
            "behind a balancer: on SIGTERM, `GET /health/ready` answers `503` at once and the server keeps serving this long before it stops accepting, so the balancer's health checks take it out first (part of `server.shutdownGraceSeconds`, at most half of it; `docs/haproxy.cfg`)"
        ),
        ConfigRow([portalRequestsPerSecond, portalRequestsPerMinute], "per client address, for `/portal` and `/provider`"),
        ConfigRow(
            [publicURL],
            "the API base URL printed at start and shown on the portal. **Set it** in production (`https://keygate.example.com`): without it the portal shows the request's `Host` only when that is one of `server.allowedHosts`, the listen address, or `localhost`/`127.0.0.1`/`[::1]` on the listen port (when listening on loopback or every address), else the listen address; a forged `Host` never reaches the page"
        ),
        ConfigRow(
            [serverAllowedHosts],
            "comma-separated `Host` values (`keygate.example.com`, `keygate.internal:8080`) the portal may show in the base URL when `publicUrl` is not set"
        ),
        ConfigRow(
            [bcryptCost],
            "bcrypt work factor for passwords. Every sign-in check costs one verification at this cost whatever the account's hash (imported at another cost, or none: decoys make up the difference), and a successful sign-in rehashes a password whose hash has another cost"
        ),
        ConfigRow([sessionZTWIdleSeconds, sessionZIAIdleSeconds], "idle timeouts"),
        ConfigRow([sessionMaxLifetimeSeconds, portalMaxLifetimeSeconds], "absolute lifetime of API and of portal/console sessions, however busy"),
        ConfigRow(
            [sessionCache],
            "keep checked sessions in memory; a change invalidates only the sessions it can affect: a logout its session, an admin change that admin's, a key or role change its organization's (`docs/decisions.md`)"
        ),
        ConfigRow(
            [sessionCacheSize], "sessions kept in memory per instance at most (about 2 KB each; beyond it, the others are read from the database)"),
        ConfigRow([portalIdleSeconds], "idle timeout of portal and console browser sessions"),
        ConfigRow(
            [housekeepingIntervalSeconds],
            "how often each server deletes expired sessions, replay digests and counters (in batches of 250 rows per transaction)"),
        ConfigRow([loginTimestampWindowSeconds], "how far a login timestamp may be from the server clock"),
        ConfigRow(
            [loginMaxFailuresPerPair, loginMaxFailuresPerAddress, loginMaxFailuresPerName, loginLockoutSeconds],
            "failed sign-ins per (login name, address), per address, and per login name from addresses where it has not succeeded lately, in sliding windows of this many seconds (`403 LIMIT_EXCEEDED` while locked)"
        ),
        ConfigRow([loginFamiliarDays], "how long a successful sign-in keeps its address out of the per-name budget"),
        ConfigRow(
            [rateLimitPreset],
            "`generous` (GET 50/s 50,000/h; POST+PUT 20/s 10,000/h; DELETE 10/s 2,000/h), `zscaler` (GET 2/s 1,000/h; POST+PUT 1/s 400/h; DELETE 1/min 4/h), `off`"
        ),
        ConfigRow(
            [], "per-class override", keyText: "`ratelimit.<get\\|write\\|delete>.<perSecond\\|perMinute\\|perHour>`", defaultsText: "from the preset"
        ),
        ConfigRow([rateLimitShared], "count request limits in the database (all instances) rather than in memory"),
        ConfigRow([webhooksAllowHTTP, webhooksAllowPrivateTargets], "webhook targets must be https and public addresses unless these say otherwise"),
        ConfigRow(
            [webhooksTimeoutSeconds, webhooksRetryBaseSeconds, webhooksRetryHours, webhooksSecretOverlapHours],
            "a receiver's time to answer; retry delays (doubling from the base, at most an hour, with jitter) and for how long; how long a rolled secret keeps signing"
        ),
        ConfigRow(
            [webhooksDisableAfterFailingDays, webhooksMaxPendingPerEndpoint, webhooksMaxPendingPerOrganization, webhooksMaxInFlightPerOrganization],
            "an endpoint failing every attempt this long is disabled; the most pending deliveries an endpoint and an organization keep (the oldest beyond fail, recoverable); one organization's deliveries in flight at once"
        ),
        ConfigRow(
            [usageEnabled, usageFlushSeconds],
            "count API requests per organization, admin, day and key version in memory and write them this often (a crash loses at most one interval)"
        ),
        ConfigRow([metricsEnabled], "Prometheus metrics at `GET /metrics`; `false`: none measured, no route"),
        ConfigRow([metricsPort, metricsHost], "a port moves `/metrics` off the main port to a plain-HTTP listener of its own (`docs/metrics.md`)"),
        ConfigRow([logLevel], "`trace` … `critical`"),
        ConfigRow(
            [logFormat],
            "`text`: `key=value` fields, a value in double quotes when it holds a space, `=` or `\"`; `json`: one JSON object per line (`ts`, `level`, `label`, `message`, and the metadata, such as `request_id`). In both, control, C1, line-separator and bidi characters (and `\\`) in any value are written as `\\u{XXXX}`, so no value can add a field or a line"
        ),
    ]

    /// The table the README shows under "Configuration".
    public static func markdownTable() -> String {
        (["| key (flag) | default | meaning |", "|---|---|---|"] + rows.map(\.markdown)).joined(separator: "\n")
    }
}

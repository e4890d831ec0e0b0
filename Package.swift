// swift-tools-version:6.2
// Keygate: organization API keys and legacy API sessions, self-hosted.

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "keygate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "keygate", targets: ["keygate"]),
        .library(name: "KeygateCore", targets: ["KeygateCore"]),
        .library(name: "KeygateStorage", targets: ["KeygateStorage"]),
        .library(name: "KeygateServer", targets: ["KeygateServer"]),
        .library(name: "KeygatePasswords", targets: ["KeygatePasswords"]),
        .library(name: "KeygateApp", targets: ["KeygateApp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
    ],
    targets: [
        // Domain rules: organizations, admins, roles, the API key, sessions, audit. No I/O.
        .target(
            name: "KeygateCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Persistence: one SQLKit code path, numbered migrations, SQLite and PostgreSQL backends.
        .target(
            name: "KeygateStorage",
            dependencies: [
                "KeygateCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // bcrypt on NIO's blocking pool: Core's PasswordHasher for the server and the CLI alike.
        .target(
            name: "KeygatePasswords",
            dependencies: [
                "KeygateCore",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP only: the legacy API routes, the admin portal's pages, error mapping, rate limits, TLS.
        .target(
            name: "KeygateServer",
            dependencies: [
                "KeygateCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            // The OpenAPI document and the pages' templates, compiled into the binary (no resource bundle to lose when
            // it is copied). A template added to Templates/ is listed here and in `Template`.
            resources: [
                .embedInCode("API/openapi.json"),
                .embedInCode("Templates/admins.mustache"),
                .embedInCode("Templates/applied.mustache"),
                .embedInCode("Templates/audit.mustache"),
                .embedInCode("Templates/document.mustache"),
                .embedInCode("Templates/foot.mustache"),
                .embedInCode("Templates/head.mustache"),
                .embedInCode("Templates/keys.mustache"),
                .embedInCode("Templates/message.mustache"),
                .embedInCode("Templates/phead.mustache"),
                .embedInCode("Templates/provider-created.mustache"),
                .embedInCode("Templates/provider-message.mustache"),
                .embedInCode("Templates/provider-org.mustache"),
                .embedInCode("Templates/provider-orgs.mustache"),
                .embedInCode("Templates/provider-signin.mustache"),
                .embedInCode("Templates/roles.mustache"),
                .embedInCode("Templates/signin.mustache"),
                .embedInCode("Templates/webhooks.mustache"),
            ],
            swiftSettings: swiftSettings
        ),
        // The composition root: one configuration value in, the use cases and the HTTP application out.
        .target(
            name: "KeygateApp",
            dependencies: [
                "KeygateCore",
                "KeygateStorage",
                "KeygatePasswords",
                "KeygateServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The executable: subcommands, configuration, logging bootstrap.
        .executableTarget(
            name: "keygate",
            dependencies: [
                "KeygateCore",
                "KeygateStorage",
                "KeygatePasswords",
                "KeygateServer",
                "KeygateApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KeygateCoreTests",
            dependencies: ["KeygateCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KeygateStorageTests",
            dependencies: [
                "KeygateCore", "KeygateStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KeygateServerTests",
            dependencies: [
                "KeygateCore",
                "KeygateStorage",
                "KeygatePasswords",
                "KeygateServer",
                "KeygateApp",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

// Benchmarks are opt-in (as in Hummingbird): `KEYGATE_BENCHMARKS=1 swift build -c release` adds the bare
// Hummingbird baseline that scripts/bench/run measures Keygate against, and the hot-path cost probe (metrics,
// usage counting) of scripts/bench/metrics.
if Context.environment["KEYGATE_BENCHMARKS"] != nil {
    package.targets.append(
        .executableTarget(
            name: "KeygateBareServer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/BareServer",
            swiftSettings: swiftSettings
        )
    )
    package.targets.append(
        .executableTarget(
            name: "KeygateHotPathCost",
            dependencies: [
                "KeygateCore",
                "KeygateServer",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Benchmarks/HotPathCost",
            swiftSettings: swiftSettings
        )
    )
}

import Foundation
import Testing

@testable import KeygateCore

@Suite("Configuration keys: declared once, and the README's table is theirs")
struct ConfigKeysTests {
    static func readme() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    }

    @Test("the README's configuration table is ConfigKeys.markdownTable(), row for row")
    func readmeTable() throws {
        let lines = try Self.readme().components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "| key (flag) | default | meaning |"), "the README has no configuration table")
        let table = lines[start...].prefix { $0.hasPrefix("|") }
        let generated = ConfigKeys.markdownTable().components(separatedBy: "\n")
        #expect(Array(table) == generated, "regenerate it: swift run keygate config --markdown")
    }

    @Test("every key is in exactly one row, names are unique, and a default reads as the docs show it")
    func keys() {
        let names = ConfigKeys.rows.flatMap { $0.keys.map(\.name) }
        #expect(Set(names).count == names.count)
        #expect(names.contains("session.ztwIdleSeconds") && names.contains("server.shutdownGraceSeconds"))
        #expect(ConfigKeys.port.defaultText == "`8080`" && ConfigKeys.metricsPort.defaultText == "none")
        #expect(ConfigKeys.rateLimitShared.defaultText == "`true` on PostgreSQL, `false` on SQLite")
    }
}

import Foundation
import Testing

@testable import KeygateCore

@Suite("Capabilities: the provider's authority reaches the web only through a console session")
struct CapabilityTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every Swift file of a module, with its text.
    static func sources(_ module: String) throws -> [(String, String)] {
        let folder = root.appendingPathComponent("Sources/\(module)")
        let files = FileManager.default.enumerator(atPath: folder.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        return try files.map { ($0, try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8)) }
    }

    @Test("no file of the HTTP layer or the composition root makes a command-line Provider; the console's comes from its session")
    func providerOnlyFromConsoleSessions() throws {
        let server = try Self.sources("KeygateServer")
        #expect(server.count > 20, "the sources were not found")
        for module in ["KeygateServer", "KeygateApp", "KeygateStorage"] {
            for (file, text) in try Self.sources(module) {
                #expect(!text.contains("commandLineProvider"), "\(module)/\(file) makes the provider's authority without a console session")
            }
        }
        let console = try #require(server.first { $0.0.hasSuffix("ConsoleContext.swift") }?.1)
        #expect(console.contains("keygate.operators.operatorSession(token:"))
    }
}

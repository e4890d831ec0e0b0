import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateCore
import KeygateServer
import KeygateStorage
import SQLKit
import Testing

/// The access matrix of `docs/authorization.md`, run: every route × every kind of principal, on a fresh organization
/// per allowed change, with the status the table gives and "changes nothing" for every refusal.
@Suite("Access matrix")
struct AccessMatrixTests {
    /// The principals, in the table's column order.
    enum Who: String, CaseIterable, Sendable {
        case superAdmin = "super", manager, keys, readonly, none, other, anon
    }

    /// One row of the table.
    struct Row: Sendable, CustomTestStringConvertible {
        let route: String
        let recipe: String
        /// Expected status per principal, and whether that answer must change nothing although it is 2xx/3xx.
        let expected: [Who: (status: Int, unchanged: Bool)]
        var testDescription: String { "\(recipe) (\(route))" }
    }

    static let table: [Row] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/authorization.md")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line -> Row? in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 11,
                cells[1].hasPrefix("GET ") || cells[1].hasPrefix("POST ") || cells[1].hasPrefix("PUT ")
                    || cells[1].hasPrefix("DELETE ")
            else { return nil }
            guard let recipe = cells[2].firstMatch(of: /`([^`]+)`/)?.1 else { return nil }
            var expected: [Who: (Int, Bool)] = [:]
            for (who, cell) in zip(Who.allCases, cells[3...9]) {
                guard let status = Int(cell.hasSuffix("=") ? String(cell.dropLast()) : cell) else { return nil }
                expected[who] = (status, cell.hasSuffix("="))
            }
            return Row(route: cells[1], recipe: String(recipe), expected: expected)
        }
    }()

    @Test("the table covers every route the router serves, and each row names a served route and a known request")
    func coverage() async throws {
        #expect(Self.table.count > 80, "the table in docs/authorization.md was not read")
        var served: Set<String> = []
        try await Harness.with { _, router in served = Set(router.routes.map { "\($0.method.rawValue) \($0.path)" }) }
        let documented = Set(Self.table.map(\.route))
        #expect(served.subtracting(documented).sorted() == [], "routes without a row in docs/authorization.md")
        #expect(documented.subtracting(served).sorted() == [], "rows for routes the router does not serve")
        for row in Self.table {
            let recipe = try #require(Recipe.all[row.recipe], "no request named \(row.recipe)")
            #expect("\(recipe.method.rawValue) \(recipe.route)" == row.route, "\(row.recipe) is not a request to \(row.route)")
        }
        #expect(Set(Recipe.all.keys) == Set(Self.table.map(\.recipe)), "requests without a row")
    }

    @Test("each principal gets the documented answer, and a refusal changes nothing", arguments: table)
    func row(_ row: Row) async throws {
        let recipe = try #require(Recipe.all[row.recipe])
        // One organization for every answer that must change nothing; a fresh one for each allowed change.
        let refusals = Who.allCases.filter { who in
            let (status, unchanged) = row.expected[who]!
            return recipe.readOnly || unchanged || who == .other || who == .anon || !(200..<400).contains(status)
        }
        try await withServer { harness, client in
            let world = try await World.make(harness, client)
            for who in refusals { try await Self.check(row, recipe, as: who, in: world, changes: false) }
        }
        for who in Who.allCases where !refusals.contains(who) {
            try await withServer { harness, client in
                try await Self.check(row, recipe, as: who, in: try await World.make(harness, client), changes: true)
            }
        }
    }

    /// Sends the row's request as `who` and checks the status, and that Acme changed (an allowed change) or did not.
    static func check(_ row: Row, _ recipe: Recipe, as who: Who, in world: World, changes: Bool) async throws {
        try await recipe.setup?(world)
        let before = try await world.digest()
        let response = try await world.send(recipe, as: who)
        #expect(
            response.status.code == row.expected[who]!.status,
            "\(row.recipe) as \(who.rawValue): \(response.status.code) \(response.text.prefix(200))")
        guard !recipe.isSessionOnly else { return }
        let changed = try await world.digest() != before
        #expect(changed == changes, "\(row.recipe) as \(who.rawValue): \(changes ? "allowed but changed nothing" : "changed Acme")")
    }
}

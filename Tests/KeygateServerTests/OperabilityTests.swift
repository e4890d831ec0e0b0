import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateCore
import KeygateServer
import Testing

@testable import KeygateApp

/// The OpenAPI document against the routes really served, the `405` for a known path's unknown method, and the
/// Prometheus scrape after a scripted workload.
@Suite struct OperabilityTests {
    /// `METHOD /path` for every API operation the document describes.
    static func documentedOperations(_ document: [String: Any]) throws -> Set<String> {
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]
        return Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
    }

    /// The repository's copy of the document (the one the binary embeds).
    static func repositoryDocument() throws -> Data {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try Data(contentsOf: root.appendingPathComponent("Sources/KeygateServer/API/openapi.json"))
    }

    @Test func theDocumentNamesEveryServedRouteAndNoOther() async throws {
        var routes: [String] = []
        try await Harness.with { _, router in routes = router.routes.map { "\($0.method.rawValue) \($0.path)" } }
        // Browser pages (the portal, the console, `/` leading to them) are HTML for people, not API operations.
        let served = Set(
            routes
                .filter { !$0.contains(" /portal") && !$0.contains(" /provider") && !$0.hasSuffix(" /") })
        let document = try #require(try JSONSerialization.jsonObject(with: try Self.repositoryDocument()) as? [String: Any])
        let documented = try Self.documentedOperations(document)
        #expect(served.subtracting(documented).sorted() == [], "served but not in the OpenAPI document")
        #expect(documented.subtracting(served).sorted() == [], "in the OpenAPI document but not served")
        #expect(served.contains("POST /api/v1/apiKeys/{id}/ztw/api/v1/regenerate"))
        #expect(served.contains("DELETE /auth") && served.contains("GET /metrics"))
    }

    @Test func theServedDocumentIsTheRepositoryFileAndNeedsNoSession() async throws {
        try await withServer { _, client in
            let response = try await client.send(.get, "/api/v1/openapi.json")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(Data(response.body.readableBytesView) == (try Self.repositoryDocument()))
            let document = try #require(response.object["openapi"] as? String)
            #expect(document.hasPrefix("3.1"))
        }
    }

    @Test func aKnownPathWithAnUnservedMethodIs405WithAllow() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness)
            let patch = try await client.send(.patch, "/api/v1/apiKeys/1", session: session, json: [:])
            #expect(patch.status == .methodNotAllowed)
            #expect(patch.code == "METHOD_NOT_ALLOWED")
            #expect(patch.headers[.allow] == "DELETE, GET, PUT")
            #expect(patch.headers[.xRequestID] != nil)
            let trace = try await client.send(.trace, "/auth")
            #expect(trace.status == .methodNotAllowed && trace.headers[.allow] == "DELETE")
            // An unknown path stays 404, and so do the browser areas.
            #expect(try await client.send(.get, "/api/v1/nothing-here").status == .notFound)
            #expect(try await client.send(.patch, "/portal/login").status == .notFound)
            // Nothing changed: the key is still there.
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).array.count == 1)
        }
    }

    @Test func theScrapeCountsAScriptedWorkloadWithBoundedLabels() async throws {
        try await withServer(throttle: LoginThrottle.Limits(perPair: 2, perAddress: 100, perLoginName: 100)) { harness, client in
            let session = try await client.login(harness)
            for _ in 0..<3 { #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .ok) }
            #expect(try await client.send(.get, "/api/v1/apiKeys/987654", session: session).status == .notFound)
            #expect(try await client.send(.get, "/api/v1/no/such/route/4242").status == .notFound)
            #expect(try await client.send(HTTPRequest.Method("FROB")!, "/api/v1/apiKeys").status == .methodNotAllowed)
            // A second session, ended by the rotation the first one makes.
            let other = try await client.login(harness)
            let key = try #require(try await client.send(.get, "/api/v1/apiKeys", session: session).array.first?["id"] as? Int)
            #expect(try await client.send(.post, "/api/v1/apiKeys/\(key)/regenerate", session: session).status == .ok)
            #expect(try await client.send(.get, "/api/v1/auth", session: other).status == .unauthorized)
            // Two wrong passwords fill the pair's budget of 2 (a lockout begins); the third is refused as locked.
            let current = try #require(try await harness.currentKey())
            for _ in 0..<3 {
                _ = try await client.send(.post, "/api/v1/auth", json: harness.loginBody(password: "Wr0ng!pass", key: current))
            }
            #expect(try await client.send(.delete, "/api/v1/auth", session: session).status == .noContent)
            // A console sign-in with a wrong password (no Origin: the form check lets it through to the sign-in).
            let form = "loginName=ops&password=Wr0ng%21pass1"
            let console = try await client.send(
                .post, "/provider/signin", raw: form, contentType: "application/x-www-form-urlencoded")
            #expect(console.status == .badRequest || console.status == .unauthorized || console.status == .forbidden)

            let scrape = try await client.send(.get, "/metrics")
            #expect(scrape.status == .ok)
            #expect(scrape.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let metrics = PrometheusText(scrape.text)
            #expect(metrics["keygate_logins_total", ["outcome": "success"]] == 2)
            #expect(metrics["keygate_logins_total", ["outcome": "invalid"]] == 2)
            #expect(metrics["keygate_logins_total", ["outcome": "locked"]] == 1)
            #expect(metrics["keygate_login_lockouts_total", ["scope": "pair"]] == 1)
            #expect(metrics["keygate_sessions_created_total", ["kind": "ztw"]] == 2)
            #expect(metrics["keygate_sessions_ended_total", ["reason": "rotation"]] == 1)
            #expect(metrics["keygate_sessions_ended_total", ["reason": "logout"]] == 1)
            #expect(metrics["keygate_key_changes_total", ["kind": "regenerated"]] == 1)
            #expect(metrics["keygate_key_changes_total", ["kind": "deleted"]] == 0)
            let listed = ["route": "/api/v1/apiKeys", "method": "GET", "status_class": "2xx"]
            #expect(metrics["keygate_http_requests_total", listed] == 4)
            #expect(metrics["keygate_http_request_duration_seconds_count", listed] == 4)
            #expect(metrics["keygate_http_requests_total", ["route": "/api/v1/apiKeys/{id}", "method": "GET", "status_class": "4xx"]] == 1)
            #expect(metrics["keygate_http_requests_total", ["route": "unmatched", "method": "GET", "status_class": "4xx"]] == 1)
            #expect(metrics["keygate_http_requests_total", ["route": "unmatched", "method": "OTHER", "status_class": "4xx"]] == 1)
            #expect((metrics["keygate_session_cache_hits_total", [:]] ?? 0) >= 3)
            #expect((metrics["keygate_db_query_duration_seconds_count", ["kind": "transaction"]] ?? 0) >= 4)
            #expect((metrics["keygate_db_pool_connections", [:]] ?? 0) >= 2)
            #expect(metrics["keygate_sessions_live", [:]] == 0)
            #expect(metrics["keygate_browser_sign_ins_total", ["surface": "console", "outcome": "invalid"]] == 1)
            #expect(metrics["keygate_browser_sign_ins_total", ["surface": "portal", "outcome": "invalid"]] == 0)
            // No id, login name, key or method a client made up becomes a label.
            for secret in ["987654", "4242", "FROB", "root", current, Harness.password] {
                #expect(!scrape.text.contains(secret), "\(secret) in the scrape")
            }
        }
    }

    @Test func ratesLimitedAreCountedByClass() async throws {
        var limits = RateLimiter.Limits.off
        limits[.get] = .init(short: 1, shortWindow: 60, perHour: 1000)
        try await withServer(limits: limits) { harness, client in
            let session = try await client.login(harness)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .ok)
            let refused = try await client.send(.get, "/api/v1/apiKeys", session: session)
            #expect(refused.status == .tooManyRequests)
            let metrics = PrometheusText(try await client.send(.get, "/metrics").text)
            #expect(metrics["keygate_rate_limited_total", ["class": "get"]] == 1)
            #expect(metrics["keygate_rate_limited_total", ["class": "write"]] == 0)
            #expect(metrics["keygate_http_requests_total", ["route": "/api/v1/apiKeys", "method": "GET", "status_class": "4xx"]] == 1)
        }
    }
}

/// A Prometheus text scrape, parsed into samples (enough of the format for assertions: no escapes in label values).
struct PrometheusText {
    let samples: [(name: String, labels: [String: String], value: Double)]

    init(_ text: String) {
        samples = text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                return nil
            }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return (String(series), [:], value) }
            let inner = series[series.index(after: brace)..<(series.lastIndex(of: "}") ?? series.endIndex)]
            var labels: [String: String] = [:]
            for pair in inner.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { labels[String(parts[0])] = String(parts[1].dropFirst().dropLast()) }
            }
            return (String(series[..<brace]), labels, value)
        }
    }

    /// The value of the one sample named `name` with exactly `labels`; nil when there is none.
    subscript(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }
}

/// API usage through the router: counted per admin and key version on each session-checked request, written by a
/// flush, shown on the API Key Management page.
@Suite struct UsageTests {
    @Test func requestsAreCountedPerAdminAndKeyVersionAndShownAfterAFlush() async throws {
        try await withServer { harness, client in
            let viewer = try await harness.addAdmin("viewer", access: .readOnly)
            let root = try await client.login(harness)
            let other = try await client.login(harness, user: "viewer")
            for _ in 0..<4 { #expect(try await client.send(.get, "/api/v1/apiKeys", session: root).status == .ok) }
            for _ in 0..<2 { #expect(try await client.send(.get, "/api/v1/auth", session: other).status == .ok) }
            // A rotation: root's session moves to key version 2, viewer's ends (refused: not a session-checked request).
            let keyID = try #require(try await client.send(.get, "/api/v1/apiKeys", session: root).array.first?["id"] as? Int)
            #expect(try await client.send(.post, "/api/v1/apiKeys/\(keyID)/regenerate", session: root).status == .ok)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: other).status == .unauthorized)
            for _ in 0..<3 { #expect(try await client.send(.get, "/api/v1/apiKeys", session: root).status == .ok) }
            // Nothing is in the database before a flush; everything after it.
            #expect(
                try await harness.keygate.usage.usageReport(harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID, days: 7)
                    .period
                    == 0)
            try await harness.keygate.usage.flushUsage()
            let report = try await harness.keygate.usage.usageReport(
                harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID, days: 7)
            #expect(report.today == 11 && report.period == 11)
            #expect(report.admins.map(\.loginName) == ["root", viewer] && report.admins.map(\.today) == [9, 2])
            // Version 1: root's 4 lists, the list that read the id and the regenerate itself (checked before it rotated),
            // and viewer's 2 checks; version 2: root's 3 lists after.
            #expect(report.byDay.map(\.keyVersion) == [1, 2] && report.byDay.map(\.requests) == [8, 3])
            #expect(try await harness.keygate.usage.flushUsage() == 0)

            let portal = try await PortalTests.signIn(client, login: "root")
            let page = try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(portal)"])
            #expect(page.text.contains(#"<strong id="usage-today">11</strong>"#))
            #expect(page.text.contains("<td data-label=\"Admin\">root</td><td data-label=\"Today\">9</td>"))
        }
    }
}

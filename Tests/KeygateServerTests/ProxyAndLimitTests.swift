import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateCore
import KeygateServer
import KeygateStorage
import Testing

/// Transport bounds (issue 8, part 3).
@Suite("Browser-area limits")
struct BrowserAreaLimitTests {
    @Test("portal and console requests are limited per client address (HTML 429); the API is not counted there")
    func limited() async throws {
        try await withServer(browserLimits: (perSecond: 5, perMinute: 8)) { harness, client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<6 { statuses.append(try await client.send(.get, "/portal/signin").status) }
            #expect(statuses == Array(repeating: .ok, count: 5) + [.tooManyRequests])
            let limited = try await client.send(.get, "/provider/signin")
            #expect(limited.status == .tooManyRequests && limited.headers[.contentType]?.hasPrefix("text/html") == true)
            harness.clock.advance(1)
            for _ in 0..<3 { #expect(try await client.send(.get, "/provider/signin").status == .ok) }
            #expect(try await client.send(.get, "/portal/signin").status == .tooManyRequests, "8 a minute")
            #expect(try await client.send(.get, "/health").status == .ok)
            harness.clock.advance(60)
            #expect(try await client.send(.get, "/portal/signin").status == .ok)
        }
    }

    @Test("a portal cookie with many tokens is read only up to its bound")
    func tokenBound() async throws {
        try await withServer { harness, client in
            let real = try await PortalTests.signIn(client)
            let forged = Array(repeating: String(repeating: "f", count: 32), count: 50).joined(separator: ".")
            // The real token past the bound is not read: the forged cookie gets the sign-in page.
            let page = try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(forged).\(real)"])
            #expect(page.status == .seeOther)
            #expect(try await client.send(.get, "/portal/orgs/\(harness.orgID)/keys", headers: [.cookie: "kg_portal=\(real)"]).status == .ok)
        }
    }
}

/// Client addresses behind proxies (issue 8, part 2).
@Suite("Trusted proxies")
struct TrustedProxyTests {
    @Test("the client is the right-most address not a trusted proxy, and only when the peer is trusted")
    func chain() throws {
        let proxies = try TrustedProxies(parsing: "10.0.0.0/8, 127.0.0.1, ::1")
        let xff: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "6.6.6.6, 203.0.113.7, 10.1.2.3"]
        #expect(proxies.clientAddress(peer: "10.0.0.5", headers: xff) == "203.0.113.7")
        #expect(proxies.clientAddress(peer: "198.51.100.9", headers: xff) == "198.51.100.9", "an untrusted peer's header is ignored")
        let forwarded: HTTPFields = [HTTPField.Name("Forwarded")!: #"for=192.0.2.60;proto=https, for="[2001:db8::1]:4711""#]
        let forwardedProxies = try TrustedProxies(parsing: "10.0.0.0/8, 127.0.0.1, ::1", header: .forwarded)
        #expect(forwardedProxies.clientAddress(peer: "::1", headers: forwarded) == "2001:db8::1")
        #expect(proxies.clientAddress(peer: "::1", headers: forwarded) == "::1", "the header not configured is ignored")
        #expect(proxies.clientAddress(peer: "127.0.0.1", headers: [:]) == "127.0.0.1")
        let allProxies: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "10.9.9.9"]
        #expect(proxies.clientAddress(peer: "10.0.0.5", headers: allProxies) == "10.9.9.9")
        #expect(throws: (any Error).self) { try TrustedProxies(parsing: "10.0.0.0/33") }
        #expect(throws: (any Error).self) { try TrustedProxies(parsing: "example.com") }
        #expect(!TrustedProxies.none.trusts("127.0.0.1"))
    }

    @Test("only the configured header names the client: a client's own Forwarded cannot pick its address")
    func oneHeader() throws {
        let proxies = try TrustedProxies(parsing: "127.0.0.1")
        // nginx's default: it appends X-Forwarded-For and passes the client's Forwarded through untouched.
        for forged in ["for=198.51.100.1", "for=198.51.100.2", #"for="[2001:db8::7]""#] {
            let headers: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "203.0.113.9", HTTPField.Name("Forwarded")!: forged]
            #expect(proxies.clientAddress(peer: "127.0.0.1", headers: headers) == "203.0.113.9")
        }
        let forwardedOnly = try TrustedProxies(parsing: "127.0.0.1", header: .forwarded)
        let both: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "198.51.100.1", HTTPField.Name("Forwarded")!: "for=203.0.113.9"]
        #expect(forwardedOnly.clientAddress(peer: "127.0.0.1", headers: both) == "203.0.113.9")
    }

    @Test("a hop that is not an address counts as the proxy that wrote it, never as text")
    func notAnAddress() throws {
        let forwarded = try TrustedProxies(parsing: "127.0.0.1, 10.0.0.0/8", header: .forwarded)
        let cases: [String] = [
            "for=unknown", "for=_hidden", #"for="_gazonk""#, #"for="free text of any kind, sixty-four characters long enough to count""#,
            "for=", "proto=https",
        ]
        for value in cases {
            let headers: HTTPFields = [HTTPField.Name("Forwarded")!: value]
            #expect(forwarded.clientAddress(peer: "10.1.1.1", headers: headers) == "10.1.1.1", "\(value)")
        }
        // Behind two proxies: the inner one reported an obfuscated client, so the client is that proxy.
        let chain: HTTPFields = [HTTPField.Name("Forwarded")!: "for=_abc, for=10.2.2.2"]
        #expect(forwarded.clientAddress(peer: "127.0.0.1", headers: chain) == "10.2.2.2")
        let xff = try TrustedProxies(parsing: "127.0.0.1")
        let junk: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "admin client=1.2.3.4"]
        #expect(xff.clientAddress(peer: "127.0.0.1", headers: junk) == "127.0.0.1")
    }

    @Test("database URLs lose their password wherever they are printed")
    func redaction() {
        #expect(Storage.redacted("postgres://kg:s3cret@db:5432/kg?sslmode=require") == "postgres://kg:***@db:5432/kg?sslmode=require")
        #expect(Storage.redacted("cannot reach postgres://u:p@h/x and postgres://h2/y") == "cannot reach postgres://u:***@h/x and postgres://h2/y")
        #expect(Storage.redacted("./keygate-data/keygate.sqlite") == "./keygate-data/keygate.sqlite")
    }
}

@Suite("Request ids")
struct RequestIDTests {
    @Test("every answer carries X-Request-Id: the caller's when well-formed, else 96 random bits in hex; errors too")
    func requestIDs() async throws {
        try await withServer { harness, client in
            let kept = try await client.send(.get, "/health", headers: [.xRequestID: "lb-7f3a:2.b_c"])
            #expect(kept.headers[.xRequestID] == "lb-7f3a:2.b_c")
            for bad in ["", "has space", String(repeating: "a", count: 129), "semi;colon", "ümlaut"] {
                let replaced = try await client.send(.get, "/health", headers: [.xRequestID: bad])
                let id = try #require(replaced.headers[.xRequestID])
                #expect(id != bad && id.count == 24 && id.allSatisfy(\.isHexDigit), "\(bad)")
            }
            let first = try await client.send(.get, "/api/v1/apiKeys")
            let second = try await client.send(.get, "/api/v1/apiKeys")
            #expect(first.status == .unauthorized && first.headers[.xRequestID]?.count == 24)
            #expect(first.headers[.xRequestID] != second.headers[.xRequestID])
            #expect(try await client.send(.get, "/no/such/route").headers[.xRequestID] != nil)
        }
    }
}

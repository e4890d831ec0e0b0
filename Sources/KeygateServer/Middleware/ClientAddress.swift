import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The proxies whose forwarding headers are believed, as address ranges (`proxy.trustedAddresses`:
/// `10.0.0.0/8, 127.0.0.1, ::1`), and the one header that names the client (`proxy.clientHeader`).
///
/// Why: behind a load balancer every request comes from the balancer's address, so per-address login limits would
/// lock everyone out together. The client's address is taken from a forwarding header only when the TCP peer is a
/// trusted proxy, and then it is the right-most hop in the chain that is *not* a trusted proxy: everything left of it
/// was written by the client and may be forged. An untrusted peer's headers are ignored entirely.
///
/// Only **one** header is read, the one the operator's proxies write (``ClientHeader``): `X-Forwarded-For` by
/// default, which nginx, HAProxy and the cloud balancers append to; or RFC 7239 `Forwarded`. The other is ignored,
/// since most proxies pass a header they do not write through untouched, and a client would pick its own address with
/// it. A hop that is not an IP address (`unknown`, an obfuscated `_identifier`, anything else) is never taken as text:
/// the client is then the trusted proxy that wrote it, so a counter key or an audit line holds only addresses.
public struct TrustedProxies: Sendable {
    /// The forwarding header that names the client.
    public enum ClientHeader: String, Sendable, CaseIterable {
        /// `X-Forwarded-For: client, proxy1, proxy2` (the default).
        case xForwardedFor = "x-forwarded-for"
        /// RFC 7239 `Forwarded: for=client;proto=https, for=proxy1`.
        case forwarded
    }

    struct Range: Sendable {
        let bytes: [UInt8]
        let prefix: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var remaining = prefix
            for (a, b) in zip(address, bytes) where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if a & mask != b & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    let ranges: [Range]
    /// The header read from a trusted peer.
    public let header: ClientHeader

    /// No proxy is trusted.
    public static let none = TrustedProxies(ranges: [], header: .xForwardedFor)

    init(ranges: [Range], header: ClientHeader) {
        self.ranges = ranges
        self.header = header
    }

    /// Parses a comma-separated list of addresses and CIDR ranges.
    /// - Throws: a message naming the entry that is not one.
    public init(parsing list: String, header: ClientHeader = .xForwardedFor) throws {
        var ranges: [Range] = []
        for entry in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
            guard let bytes = Self.parse(parts[0]) else { throw TrustedProxiesError(entry: entry) }
            let prefix = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
            guard let prefix, (0...(bytes.count * 8)).contains(prefix) else { throw TrustedProxiesError(entry: entry) }
            ranges.append(Range(bytes: bytes, prefix: prefix))
        }
        self.ranges = ranges
        self.header = header
    }

    /// Whether any proxy is trusted.
    public var isEmpty: Bool { ranges.isEmpty }

    /// Whether `address` (a textual IPv4 or IPv6 address) is a trusted proxy.
    public func trusts(_ address: String) -> Bool {
        guard !ranges.isEmpty, let bytes = Self.parse(address) else { return false }
        return ranges.contains { $0.contains(bytes) }
    }

    /// The client's address for a request from `peer` carrying `headers`: always an IP address (or the peer's own
    /// text, as the server saw it).
    public func clientAddress(peer: String, headers: HTTPFields) -> String {
        guard trusts(peer) else { return peer }
        var chain = chain(headers)
        var client = peer
        while trusts(client), let previous = chain.popLast() {
            // A hop that is not an address ends the walk at the proxy that wrote it.
            guard let hop = previous, Self.parse(hop) != nil else { return client }
            client = hop
        }
        return client
    }

    /// The hops of the configured header, left to right, with ports and brackets removed; nil for a hop that names no
    /// address (`unknown`, an obfuscated identifier, a malformed element).
    func chain(_ headers: HTTPFields) -> [String?] {
        switch header {
        case .xForwardedFor:
            return headers[values: .xForwardedFor].flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map {
                Self.normalize($0.trimmingCharacters(in: .whitespaces))
            }
        case .forwarded:
            return headers[values: .forwarded].flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { element in
                for pair in element.split(separator: ";") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" else { continue }
                    var value = kv[1].trimmingCharacters(in: .whitespaces)
                    if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
                    return Self.normalize(value)
                }
                return nil
            }
        }
    }

    /// `[2001:db8::1]:4711` → `2001:db8::1`, `192.0.2.1:80` → `192.0.2.1`.
    static func normalize(_ hop: String) -> String? {
        guard !hop.isEmpty else { return nil }
        if hop.hasPrefix("["), let close = hop.firstIndex(of: "]") { return String(hop[hop.index(after: hop.startIndex)..<close]) }
        if hop.filter({ $0 == ":" }).count == 1, let colon = hop.firstIndex(of: ":") { return String(hop[..<colon]) }
        return hop
    }

    /// The address's bytes (4 or 16), or nil when it is not an IP address.
    static func parse(_ text: String) -> [UInt8]? {
        guard text.utf8.count <= 64 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

/// A `proxy.trustedAddresses` entry that is not an address or CIDR range.
public struct TrustedProxiesError: Error, CustomStringConvertible {
    /// The entry.
    public let entry: String
    public var description: String { "proxy.trustedAddresses: \(entry) is not an IP address or CIDR range" }
}

extension TrustedProxies {
    /// The client's address for `request` from `peer`, nil when it is the peer itself (no proxy is trusted, or the peer
    /// is not one). Refuses a request with more than one `Host` header (RFC 9112 §3.2: a server must answer 400), since
    /// the parts of a chain of proxies and this server could each read a different one. Applied by ``EdgeMiddleware``.
    func forwardedClient(_ request: Request, peer: @autoclosure () -> String) throws -> String? {
        // The first `Host` became the request's authority; any left among the fields is a second one.
        guard request.headers[.host] == nil else { throw KeygateError.invalidInput("the request has more than one Host header") }
        guard !isEmpty else { return nil }
        let peer = peer()
        let client = clientAddress(peer: peer, headers: request.headers)
        return client == peer ? nil : client
    }
}

extension HTTPField.Name {
    /// `Forwarded` (RFC 7239).
    static let forwarded = HTTPField.Name("Forwarded")!
    /// `X-Forwarded-For`.
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    /// `Host` (HTTP/1.1; the first one is the request's authority).
    static let host = HTTPField.Name("Host")!
}

import Foundation
import HTTPTypes
import Hummingbird

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The proxies whose forwarding headers are believed, as address ranges (`proxy.trustedAddresses`:
/// `10.0.0.0/8, 127.0.0.1, ::1`).
///
/// Why: behind a load balancer every request comes from the balancer's address, so per-address login limits would
/// lock everyone out together. The client's address is taken from `Forwarded` (RFC 7239) or `X-Forwarded-For`
/// only when the TCP peer is a trusted proxy, and then it is the right-most address in the chain that is *not*
/// a trusted proxy: everything left of it was written by the client and may be forged. An untrusted peer's
/// headers are ignored entirely.
public struct TrustedProxies: Sendable {
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

    /// No proxy is trusted.
    public static let none = TrustedProxies(ranges: [])

    init(ranges: [Range]) { self.ranges = ranges }

    /// Parses a comma-separated list of addresses and CIDR ranges.
    /// - Throws: a message naming the entry that is not one.
    public init(parsing list: String) throws {
        var ranges: [Range] = []
        for entry in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
            guard let bytes = Self.parse(parts[0]) else { throw TrustedProxiesError(entry: entry) }
            let prefix = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
            guard let prefix, (0...(bytes.count * 8)).contains(prefix) else { throw TrustedProxiesError(entry: entry) }
            ranges.append(Range(bytes: bytes, prefix: prefix))
        }
        self.ranges = ranges
    }

    /// Whether any proxy is trusted.
    public var isEmpty: Bool { ranges.isEmpty }

    /// Whether `address` (a textual IPv4 or IPv6 address) is a trusted proxy.
    public func trusts(_ address: String) -> Bool {
        guard !ranges.isEmpty, let bytes = Self.parse(address) else { return false }
        return ranges.contains { $0.contains(bytes) }
    }

    /// The client's address for a request from `peer` carrying `headers`.
    public func clientAddress(peer: String, headers: HTTPFields) -> String {
        guard trusts(peer) else { return peer }
        var chain = Self.forwardedChain(headers)
        var client = peer
        while trusts(client), let previous = chain.popLast() {
            // A hop that is not an address (RFC 7239 `unknown`, garbage) ends the walk: it is the client as far as
            // the proxies know, bounded in length so it cannot grow a counter key.
            guard Self.parse(previous) != nil else { return String(previous.prefix(64)) }
            client = previous
        }
        return client
    }

    /// The addresses in `Forwarded` (`for=`), else in `X-Forwarded-For`, left to right, with ports and brackets removed.
    static func forwardedChain(_ headers: HTTPFields) -> [String] {
        let forwarded = headers[values: .forwarded]
        if !forwarded.isEmpty {
            return forwarded.flatMap { $0.split(separator: ",") }.compactMap { element in
                for pair in element.split(separator: ";") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" else { continue }
                    return normalize(kv[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
                }
                return nil
            }
        }
        return headers[values: .xForwardedFor].flatMap { $0.split(separator: ",") }.map {
            normalize($0.trimmingCharacters(in: .whitespaces))
        }
    }

    /// `[2001:db8::1]:4711` → `2001:db8::1`, `192.0.2.1:80` → `192.0.2.1`.
    static func normalize(_ hop: String) -> String {
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

/// Sets ``KeygateRequestContext/clientAddress`` for every request (see ``TrustedProxies``).
struct ClientAddressMiddleware: RouterMiddleware {
    let proxies: TrustedProxies

    func handle(
        _ request: Request, context: KeygateRequestContext, next: (Request, KeygateRequestContext) async throws -> Response
    ) async throws -> Response {
        guard !proxies.isEmpty else { return try await next(request, context) }
        var context = context
        context.clientAddress = proxies.clientAddress(peer: context.peerAddress, headers: request.headers)
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    /// `Forwarded` (RFC 7239).
    static let forwarded = HTTPField.Name("Forwarded")!
    /// `X-Forwarded-For`.
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}

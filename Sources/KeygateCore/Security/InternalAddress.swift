import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Whether an IP address is one a webhook must not reach by default, and the one parser of IP literals the webhook
/// guard uses (at registration and at every delivery).
///
/// Refused: everything that is not a globally routable unicast address, and every IPv6 form that embeds an IPv4
/// address which would be refused:
/// - IPv4: 0/8 (this network), 10/8, 172.16/12, 192.168/16 (private), 100.64/10 (CGNAT), 127/8 (loopback),
///   169.254/16 (link-local), 192.0.0/24 (protocol assignments), 192.0.2/24, 198.51.100/24, 203.0.113/24
///   (documentation), 192.88.99/24 (6to4 relays), 198.18/15 (benchmarking), 224/4 (multicast), 240/4 (reserved) and
///   the broadcast address.
/// - IPv6: `::` and `::1`, IPv4-compatible `::a.b.c.d`, IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated
///   `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16` (the embedded IPv4 decides),
///   Teredo `2001::/32` and the rest of `2001::/23` (IETF protocol assignments: benchmarking, ORCHID), documentation
///   `2001:db8::/32` and `3fff::/20`, discard `100::/64`, unique local `fc00::/7`, link-local `fe80::/10`, the old
///   site-local `fec0::/10`, multicast `ff00::/8`.
///
/// IPv4 literals are read as `inet_aton` and every browser read them (``parseIPv4(_:)``): `2130706433`, `0x7f.1` and
/// `0177.0.0.1` are all 127.0.0.1, so they are refused the same.
public enum InternalAddress {
    /// `true` or `false` for an IP literal (any IPv4 form, or IPv6 with or without brackets); nil when `text` is not
    /// one (a host name).
    public static func check(_ text: String) -> Bool? {
        guard let bytes = literalBytes(text) else { return nil }
        return isInternal(bytes: bytes)
    }

    /// The address bytes (4 or 16) of an IP literal, or nil for a host name.
    public static func literalBytes(_ text: String) -> [UInt8]? {
        if let v4 = parseIPv4(text) { return v4 }
        let bare = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        var v6 = in6_addr()
        if inet_pton(AF_INET6, bare, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }

    /// An IPv4 literal in any form `inet_aton` accepts (and the WHATWG URL standard normalises): one to four parts
    /// separated by dots, each decimal, octal (a leading `0`) or hexadecimal (`0x`), the last part filling the bytes
    /// that remain (`127.1`, `0x7f.1`, `2130706433`). A trailing dot is allowed, as in a host name. Nil when `text`
    /// is not one (a host name such as `0x7f.example`).
    public static func parseIPv4(_ text: String) -> [UInt8]? {
        var body = Substring(text)
        if body.hasSuffix(".") { body = body.dropLast() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var numbers: [UInt64] = []
        for part in parts {
            guard let number = parseNumber(part) else { return nil }
            numbers.append(number)
        }
        for number in numbers.dropLast() where number > 255 { return nil }
        let lastBytes = 5 - numbers.count
        guard let last = numbers.last, last < (UInt64(1) << (8 * UInt64(lastBytes))) else { return nil }
        var bytes = numbers.dropLast().map { UInt8($0) }
        for shift in (0..<lastBytes).reversed() { bytes.append(UInt8((last >> (8 * UInt64(shift))) & 0xFF)) }
        return bytes
    }

    /// One part of an IPv4 literal: decimal, `0`-led octal or `0x` hexadecimal; nil for anything else or an overflow.
    private static func parseNumber(_ part: Substring) -> UInt64? {
        guard !part.isEmpty, part.count <= 32 else { return nil }
        let lower = part.lowercased()
        if lower.hasPrefix("0x") {
            let digits = lower.dropFirst(2)
            return digits.isEmpty ? 0 : UInt64(digits, radix: 16)
        }
        if lower.count > 1, lower.hasPrefix("0") { return UInt64(lower.dropFirst(), radix: 8) }
        return UInt64(lower, radix: 10)
    }

    /// For a resolved address's bytes (4 or 16).
    public static func isInternal(bytes: [UInt8]) -> Bool { bytes.count == 4 ? isInternal(v4: bytes) : isInternal(v6: bytes) }

    static func isInternal(v4 b: [UInt8]) -> Bool {
        switch (b[0], b[1], b[2]) {
        case (0, _, _), (10, _, _), (127, _, _): return true
        case (100, 64...127, _): return true  // shared address space (CGNAT)
        case (169, 254, _): return true  // link-local
        case (172, 16...31, _): return true
        case (192, 168, _): return true
        case (192, 0, 0): return true  // IETF protocol assignments
        case (192, 0, 2), (198, 51, 100), (203, 0, 113): return true  // documentation
        case (192, 88, 99): return true  // 6to4 relay anycast
        case (198, 18...19, _): return true  // benchmarking
        case (224...255, _, _): return true  // multicast, reserved, broadcast
        default: return false
        }
    }

    static func isInternal(v6 b: [UInt8]) -> Bool {
        let embedded = Array(b[12..<16])
        let word0 = UInt16(b[0]) << 8 | UInt16(b[1])
        let word1 = UInt16(b[2]) << 8 | UInt16(b[3])
        if b[0..<12].allSatisfy({ $0 == 0 }) { return true }  // ::, ::1 and IPv4-compatible ::a.b.c.d (deprecated: never a webhook)
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF { return isInternal(v4: embedded) }  // ::ffff:a.b.c.d
        if b[0..<8].allSatisfy({ $0 == 0 }) && b[8] == 0xFF && b[9] == 0xFF && b[10] == 0 && b[11] == 0 {
            return isInternal(v4: embedded)  // ::ffff:0:a.b.c.d (IPv4-translated)
        }
        if word0 == 0x0064 && word1 == 0xFF9B {  // NAT64: 64:ff9b::/96 well-known, 64:ff9b:1::/48 local use
            return b[4..<12].allSatisfy({ $0 == 0 }) ? isInternal(v4: embedded) : true
        }
        if word0 == 0x2002 { return isInternal(v4: Array(b[2..<6])) }  // 6to4: the IPv4 address is the next 32 bits
        if word0 == 0x2001 && word1 < 0x0200 { return true }  // 2001::/23: Teredo, benchmarking, ORCHID, other assignments
        if word0 == 0x2001 && word1 == 0x0DB8 { return true }  // documentation
        if word0 & 0xFFF0 == 0x3FF0 { return true }  // 3fff::/20 documentation
        if word0 == 0x0100 && b[2..<8].allSatisfy({ $0 == 0 }) { return true }  // 100::/64 discard
        if b[0] & 0xFE == 0xFC { return true }  // fc00::/7 unique local
        if b[0] == 0xFE && b[1] & 0x80 == 0x80 { return true }  // fe80::/10 link-local, fec0::/10 site-local
        if b[0] == 0xFF { return true }  // multicast
        if b[0] & 0xE0 != 0x20 { return true }  // outside 2000::/3, the only global unicast the IANA allocates
        return false
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Whether an IP address is one a webhook must not reach by default: loopback, unspecified, private (RFC 1918, unique
/// local), shared (CGNAT), link-local, multicast or reserved, IPv4-mapped and NAT64 forms included.
public enum InternalAddress {
    /// `true` or `false` for an IP literal; nil when `text` is not one (a host name).
    public static func check(_ text: String) -> Bool? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return isInternal(v4: withUnsafeBytes(of: v4) { Array($0) })
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return isInternal(v6: withUnsafeBytes(of: v6) { Array($0) })
        }
        return nil
    }

    /// For a resolved address's bytes (4 or 16).
    public static func isInternal(bytes: [UInt8]) -> Bool { bytes.count == 4 ? isInternal(v4: bytes) : isInternal(v6: bytes) }

    static func isInternal(v4 b: [UInt8]) -> Bool {
        switch (b[0], b[1]) {
        case (0, _), (10, _), (127, _): return true
        case (100, 64...127): return true  // shared address space (CGNAT)
        case (169, 254): return true
        case (172, 16...31): return true
        case (192, 168): return true
        case (192, 0) where b[2] == 0: return true  // IETF protocol assignments
        case (198, 18...19): return true  // benchmarking
        case (224...255, _): return true  // multicast, reserved, broadcast
        default: return false
        }
    }

    static func isInternal(v6 b: [UInt8]) -> Bool {
        if b[0..<15].allSatisfy({ $0 == 0 }) { return b[15] <= 1 }  // :: and ::1
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF { return isInternal(v4: Array(b[12..<16])) }  // ::ffff:a.b.c.d
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B { return isInternal(v4: Array(b[12..<16])) }  // 64:ff9b::/96
        if b[0] & 0xFE == 0xFC { return true }  // fc00::/7 unique local
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return true }  // fe80::/10 link-local
        if b[0] == 0xFF { return true }  // multicast
        return false
    }
}

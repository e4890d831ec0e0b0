/// The legacy login's key obfuscation, recomputed on the server from the stored key.
///
/// With `n` = the last six decimal digits of the timestamp (leading zeros kept) and `r` = `Int(n) >> 1`
/// zero-padded to six digits, the obfuscated key is `key[n0]…key[n5]` followed by `key[r0+2]…key[r5+2]`.
public enum KeyObfuscation {
    /// Obfuscates `key` for a timestamp given as its decimal string.
    /// - Returns: nil when the timestamp has fewer than six digits or holds a non-digit.
    public static func obfuscate(_ key: APIKeyValue, timestamp: String) -> String? {
        let digits = Array(timestamp.utf8)
        guard digits.count >= 6, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let n = digits.suffix(6).map { Int($0 - 0x30) }
        let nValue = n.reduce(0) { $0 * 10 + $1 }
        let r = String(nValue >> 1)
        let rDigits = (String(repeating: "0", count: 6 - r.count) + r).utf8.map { Int($0 - 0x30) }
        let keyBytes = Array(key.rawValue.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(12)
        for d in n { out.append(keyBytes[d]) }
        for d in rDigits { out.append(keyBytes[d + 2]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `presented` is the obfuscation of `key` for `timestamp`, compared in constant time.
    public static func matches(presented: String, key: APIKeyValue, timestamp: String) -> Bool {
        guard let expected = obfuscate(key, timestamp: timestamp) else { return false }
        return ConstantTime.equals(expected, presented)
    }
}

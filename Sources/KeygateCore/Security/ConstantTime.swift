/// Comparison of secrets whose running time does not depend on where the inputs differ.
public enum ConstantTime {
    /// True when `a` and `b` hold the same bytes. Time depends only on the lengths.
    public static func equals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        if a.count != b.count { difference |= 1 }
        // Walk the longer input fully so the loop count never reveals a prefix match.
        let bArray = Array(b)
        var index = 0
        for byte in a {
            let other = index < bArray.count ? bArray[index] : 0
            difference |= byte ^ other
            index += 1
        }
        return difference == 0
    }

    /// String form of ``equals(_:_:)`` over UTF-8 bytes.
    public static func equals(_ a: String, _ b: String) -> Bool { equals(Array(a.utf8), Array(b.utf8)) }
}

import Testing

@testable import KeygateCore

@Suite("API key values")
struct APIKeyValueTests {
    @Test("accepts exactly 12 alphanumerics", arguments: ["AbC123dEf456", "000000000000", "zzzzzzzzzzzz", "ABCDEFGHIJKL"])
    func acceptsValid(_ string: String) throws {
        #expect(try APIKeyValue(validating: string).rawValue == string)
    }

    @Test(
        "refuses anything else",
        arguments: [
            "", "AbC123dEf45", "AbC123dEf4567", "AbC123dEf45!", "AbC123 Ef456", "AbC123dEf45é", "AbC123dEf45💥",
            "ÅbC123dEf456", "AbC123dEf4\u{0}6", "AbC-123dEf45", "１２３４５６７８９０１２",
        ])
    func refusesInvalid(_ string: String) {
        #expect(throws: KeygateError.self) { try APIKeyValue(validating: string) }
    }

    @Test("generated keys are 12 characters from the alphabet and differ")
    func generated() throws {
        var seen = Set<String>()
        for _ in 0..<2_000 {
            let key = APIKeyValue.generate()
            #expect(try APIKeyValue(validating: key.rawValue) == key)
            seen.insert(key.rawValue)
        }
        #expect(seen.count == 2_000)
    }

    @Test("generation uses every character and no others (no modulo bias shows in 62k draws)")
    func distribution() {
        var counts: [UInt8: Int] = [:]
        for _ in 0..<5_200 {
            for byte in APIKeyValue.generate().rawValue.utf8 { counts[byte, default: 0] += 1 }
        }
        #expect(Set(counts.keys) == Set(APIKeyValue.alphabet))
        // 62,400 draws over 62 symbols: expected 1,006 each; a biased generator (e.g. % 62 over 256) would skew
        // the first 8 symbols by ~25 %.
        let expected = 62_400.0 / 62.0
        for (_, count) in counts { #expect(abs(Double(count) - expected) / expected < 0.15) }
    }

    @Test("description and masked form never show the key")
    func masking() throws {
        let key = try APIKeyValue(validating: "AbC123dEf456")
        #expect(!"\(key)".contains("AbC123"))
        #expect(!String(describing: key).contains("dEf"))
        #expect(key.masked.hasSuffix("f456"))
        #expect(!key.masked.contains("AbC1"))
    }
}

@Suite("Key obfuscation")
struct KeyObfuscationTests {
    /// Vectors from the official SDK's `obfuscate_api_key` (zscaler/utils.py, 1.11.3) for key AbC123dEf456.
    @Test(
        "matches the official SDK",
        arguments: [
            ("1795749071675", "AEbdE3C3E534"), ("1795749000123", "AAAbC1CCCCf1"), ("1795749000000", "AAAAAACCCCCC"),
            ("1795749999999", "444444d66666"), ("1795749012345", "AbC123CCf142"),
        ])
    func vectors(_ timestamp: String, _ expected: String) throws {
        let key = try APIKeyValue(validating: "AbC123dEf456")
        #expect(KeyObfuscation.obfuscate(key, timestamp: timestamp) == expected)
        #expect(KeyObfuscation.matches(presented: expected, key: key, timestamp: timestamp))
    }

    @Test("a different key, timestamp or presented value does not match")
    func mismatches() throws {
        let key = try APIKeyValue(validating: "AbC123dEf456")
        let other = try APIKeyValue(validating: "BbC123dEf456")  // position 0 is read for this timestamp
        #expect(!KeyObfuscation.matches(presented: "AEbdE3C3E534", key: key, timestamp: "1795749071676"))
        #expect(!KeyObfuscation.matches(presented: "AEbdE3C3E534", key: other, timestamp: "1795749071675"))
        #expect(!KeyObfuscation.matches(presented: "AEbdE3C3E53", key: key, timestamp: "1795749071675"))
        #expect(!KeyObfuscation.matches(presented: "", key: key, timestamp: "1795749071675"))
    }

    @Test("timestamps that are too short or not digits are refused", arguments: ["12345", "", "17957490716x5", "-795749071675", "1.79574907e12"])
    func badTimestamps(_ timestamp: String) throws {
        let key = try APIKeyValue(validating: "AbC123dEf456")
        #expect(KeyObfuscation.obfuscate(key, timestamp: timestamp) == nil)
    }
}

@Suite("Constant-time comparison")
struct ConstantTimeTests {
    @Test func equality() {
        #expect(ConstantTime.equals("abc", "abc"))
        #expect(!ConstantTime.equals("abc", "abd"))
        #expect(!ConstantTime.equals("abc", "ab"))
        #expect(!ConstantTime.equals("ab", "abc"))
        #expect(ConstantTime.equals("", ""))
        #expect(!ConstantTime.equals("", "a"))
    }
}

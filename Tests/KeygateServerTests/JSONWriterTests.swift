import Foundation
import KeygateCore
import NIOCore
import Testing

@testable import KeygateServer

@Suite("Hand-written JSON")
struct JSONWriterTests {
    @Test(
        "the key list JSON is byte-for-byte what JSONEncoder writes, for any name",
        arguments: [
            "provider", "", "Ann \"the admin\" O'Neil", #"back\slash"#, "a/b", "tab\tnew\nline\rcr", "\u{0}\u{1}\u{1f}\u{7f}",
            "\u{8}\u{c}", "日本語 ñ é 🎉", "\u{2028}\u{2029}", "e\u{301}", "<script>alert(1)</script>",
        ])
    func listMatchesEncoder(name: String) throws {
        let key = APIKey(
            id: 42, orgID: 7, value: try APIKeyValue(validating: "AbC123dEf456"), version: 3, enabled: name.count % 2 == 0,
            lastModifiedBy: .admin(id: 9, name: name), lastModifiedAt: Date(timeIntervalSince1970: 1_795_749_071.9), lastUsedAt: nil)
        for keys in [[], [APIKeyDTO(key)], [APIKeyDTO(key), APIKeyDTO(key)]] {
            let expected = try JSONEncoder.keygate.encode(keys)
            #expect(String(buffer: APIKeyDTO.listJSON(keys)) == String(decoding: expected, as: UTF8.self))
        }
    }
}

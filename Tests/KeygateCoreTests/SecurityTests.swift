import Crypto
import Foundation
import Testing

@testable import KeygateCore

@Suite("Key encryption at rest")
struct KeyCipherTests {
    let master = (0..<32).map { UInt8($0) }

    @Test("seals and opens; the stored text holds no clear key")
    func roundTrip() throws {
        let cipher = try KeyCipher(masterKey: master)
        let key = try APIKeyValue(validating: "AbC123dEf456")
        let sealed = try cipher.seal(key, orgID: 7)
        #expect(sealed.hasPrefix("v2:\(MasterKeyring.keyID(of: master)):"))
        #expect(KeyCipher.keyID(ofSealed: sealed) == MasterKeyring.keyID(of: master))
        #expect(!sealed.contains("AbC123dEf456"))
        #expect(try cipher.open(sealed, orgID: 7) == key)
        // A fresh nonce each time.
        #expect(try cipher.seal(key, orgID: 7) != sealed)
    }

    @Test("a value sealed for one organization does not open for another")
    func boundToOrganization() throws {
        let cipher = try KeyCipher(masterKey: master)
        let sealed = try cipher.seal(try APIKeyValue(validating: "AbC123dEf456"), orgID: 7)
        #expect(throws: (any Error).self) { try cipher.open(sealed, orgID: 8) }
    }

    @Test("a wrong master key or tampered data does not open")
    func wrongKeyOrTampered() throws {
        let sealed = try KeyCipher(masterKey: master).seal(try APIKeyValue(validating: "AbC123dEf456"), orgID: 1)
        let other = try KeyCipher(masterKey: Array(repeating: 9, count: 32))
        #expect(throws: (any Error).self) { try other.open(sealed, orgID: 1) }
        let prefix = "v2:\(MasterKeyring.keyID(of: master)):"
        var bytes = Array(Data(base64Encoded: String(sealed.dropFirst(prefix.count)))!)
        bytes[14] ^= 1
        let tampered = prefix + Data(bytes).base64EncodedString()
        #expect(throws: (any Error).self) { try KeyCipher(masterKey: master).open(tampered, orgID: 1) }
        #expect(throws: (any Error).self) { try KeyCipher(masterKey: master).open("garbage", orgID: 1) }
    }

    /// A value as Keygate sealed it before key ids existed: `v1:` + base64(nonce ‖ ciphertext ‖ tag).
    func legacySealed(_ value: String, orgID: Int64, key: [UInt8]) throws -> String {
        let box = try AES.GCM.seal(Data(value.utf8), using: SymmetricKey(data: key), authenticating: Data("keygate.apikey.org:\(orgID)".utf8))
        return "v1:" + box.combined!.base64EncodedString()
    }

    @Test("a keyring seals with its primary key and opens with any; v1 values open by trying each key")
    func keyring() throws {
        let old = master
        let new = Array(repeating: UInt8(42), count: 32)
        let value = try APIKeyValue(validating: "AbC123dEf456")
        let underOld = try KeyCipher(masterKey: old).seal(value, orgID: 3)
        let legacy = try legacySealed("AbC123dEf456", orgID: 3, key: old)

        let ring = try KeyCipher(keyring: MasterKeyring(primary: new, previous: [old]))
        #expect(ring.primaryKeyID == MasterKeyring.keyID(of: new))
        #expect(ring.keyIDs == [MasterKeyring.keyID(of: new), MasterKeyring.keyID(of: old)])
        #expect(try ring.open(underOld, orgID: 3) == value)
        #expect(try ring.open(legacy, orgID: 3) == value)
        let underNew = try ring.seal(value, orgID: 3)
        #expect(KeyCipher.keyID(ofSealed: underNew) == MasterKeyring.keyID(of: new))
        #expect(KeyCipher.keyID(ofSealed: legacy) == nil)
        // "Opens with the new key alone": only a value sealed under it.
        #expect(try ring.open(underNew, orgID: 3, onlyWith: MasterKeyring.keyID(of: new)) == value)
        #expect(throws: KeyCipherError.unknownKey) { try ring.open(underOld, orgID: 3, onlyWith: MasterKeyring.keyID(of: new)) }
        #expect(throws: KeyCipherError.unknownKey) { try ring.open(legacy, orgID: 3, onlyWith: MasterKeyring.keyID(of: new)) }

        // A process that holds only the new key cannot open what the old one sealed, and says which key is missing.
        let newOnly = try KeyCipher(masterKey: new)
        #expect(throws: KeyCipherError.unknownKey) { try newOnly.open(underOld, orgID: 3) }
        #expect(throws: (any Error).self) { try newOnly.open(legacy, orgID: 3) }

        // Replacing the keyring while running: later seals use the new primary key.
        let running = try KeyCipher(masterKey: old)
        try running.replaceKeyring(MasterKeyring(primary: new, previous: [old]))
        #expect(KeyCipher.keyID(ofSealed: try running.seal(value, orgID: 3)) == MasterKeyring.keyID(of: new))
        #expect(throws: KeygateError.self) { try running.replaceKeyring(MasterKeyring(primary: [1, 2])) }
        #expect(running.primaryKeyID == MasterKeyring.keyID(of: new))
    }

    @Test("master keys parse from hex or base64 and must be 32 bytes")
    func masterKeyParsing() throws {
        let hex = KeyCipher.generateMasterKeyHex()
        #expect(hex.count == 64)
        #expect(try KeyCipher.parseMasterKey(hex + "\n").count == 32)
        #expect(try KeyCipher.parseMasterKey(Data(master).base64EncodedString()) == master)
        #expect(throws: KeygateError.self) { try KeyCipher.parseMasterKey("abcd") }
        #expect(throws: KeygateError.self) { try KeyCipher(masterKey: [1, 2, 3]) }
    }
}

@Suite("Session tokens")
struct SecretsTests {
    @Test("tokens are 128-bit hex, distinct, and well-formed; junk is not")
    func tokens() {
        let tokens = (0..<1_000).map { _ in Secrets.newSessionToken() }
        #expect(Set(tokens).count == 1_000)
        for token in tokens { #expect(Secrets.isWellFormedToken(Substring(token))) }
        for junk in ["", "abc", String(repeating: "g", count: 32), String(repeating: "A", count: 32), tokens[0] + "0"] {
            #expect(!Secrets.isWellFormedToken(Substring(junk)))
        }
    }

    @Test("stored form is SHA-256 hex")
    func digest() {
        #expect(Secrets.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

@Suite("Passwords")
struct PasswordPolicyTests {
    @Test("policy: 8-100 with digit, upper-case and special", arguments: ["short1!A", "Abcdefg1!"])
    func accepts(_ password: String) throws { try PasswordPolicy.validate(password) }

    @Test(
        "refuses weak passwords", arguments: ["Ab1!", "abcdefgh1!", "ABCDEFGHI!", "Abcdefghij1", "Abcdefghij!", String(repeating: "Aa1!", count: 26)])
    func refuses(_ password: String) {
        #expect(throws: KeygateError.self) { try PasswordPolicy.validate(password) }
    }

    @Test("generated passwords satisfy the policy")
    func generated() throws {
        for _ in 0..<200 { try PasswordPolicy.validate(PasswordPolicy.generate()) }
    }
}

@Suite("Webhook rules")
struct WebhookRulesTests {
    @Test("targets: https and public by default; the operator's settings allow http and private addresses")
    func targets() throws {
        let strict = WebhookRules.TargetPolicy()
        #expect(try WebhookRules.validateURL(" https://hooks.example.com/k?x=1 ", policy: strict) == "https://hooks.example.com/k?x=1")
        for url in [
            "http://hooks.example.com/k", "https://127.0.0.1/k", "https://10.0.0.8/k", "https://172.20.1.1/k", "https://192.168.1.1/k",
            "https://169.254.169.254/latest", "https://[::1]/k", "https://[fd00::1]/k", "https://[fe80::1]/k", "https://[::ffff:127.0.0.1]/k",
            "https://100.64.0.1/k", "https://0.0.0.0/k", "https://localhost/k", "https://localhost./k", "https://api.localhost/k",
            "https://u:p@example.com/k",
            "https://example.com/k#frag", "ftp://example.com/k", "example.com/k", "https:///k", "https://" + String(repeating: "a", count: 2100),
            // The forms the issue found stored: numeric IPv4 forms, IPv4 inside IPv6, documentation ranges.
            "https://2130706433/hook", "https://0x7f.1/hook", "https://0177.0.0.1/hook", "https://127.1/hook", "https://0x7f000001/hook",
            "https://[::127.0.0.1]/hook", "https://[::ffff:0:127.0.0.1]/hook", "https://[2002:7f00:1::]/hook", "https://[2002:c0a8:101::1]/hook",
            "https://192.0.2.10/hook", "https://198.51.100.7/hook", "https://203.0.113.1/hook", "https://[2001:db8::1]/k",
            "https://[64:ff9b::10.0.0.1]/hook", "https://[64:ff9b:1::1]/hook", "https://[2001::1]/hook", "https://[fec0::1]/hook",
            "https://[ff02::1]/hook", "https://[100::1]/hook", "https://198.18.0.1/hook", "https://240.0.0.1/hook", "https://255.255.255.255/hook",
        ] {
            #expect(throws: KeygateError.self, "\(url)") { try WebhookRules.validateURL(url, policy: strict) }
        }
        for url in ["https://8.8.8.8/k", "https://[2606:4700:4700::1111]/k", "https://[2002:808:808::1]/k", "https://0x08080808/k"] {
            #expect(try WebhookRules.validateURL(url, policy: strict) == url, "\(url)")
        }
        let lab = WebhookRules.TargetPolicy(allowHTTP: true, allowPrivate: true)
        #expect(try WebhookRules.validateURL("http://127.0.0.1:9000/hook", policy: lab) == "http://127.0.0.1:9000/hook")
        #expect(InternalAddress.check("hooks.example.com") == nil)
    }

    @Test("one IPv4 parser for every numeric form inet_aton and browsers accept; names stay names")
    func ipv4Forms() {
        for form in ["127.0.0.1", "2130706433", "0x7f.1", "0x7f000001", "0177.0.0.1", "127.1", "127.0.1", "0x7F.0.0.1", "127.0.0.1."] {
            #expect(InternalAddress.parseIPv4(form) == [127, 0, 0, 1], "\(form)")
        }
        #expect(InternalAddress.parseIPv4("0xc0.0xa8.1.1") == [192, 168, 1, 1])
        for name in ["example.com", "0x7f.example", "256.1.1.1", "1.2.3.4.5", "4294967296", "08.1.1.1", "1..1", "", "127.0.0.1x"] {
            #expect(InternalAddress.parseIPv4(name) == nil, "\(name)")
        }
    }

    /// Computed with the Standard Webhooks reference library for Python (`standardwebhooks` 1.3.0,
    /// `Webhook(secret).sign("evt_1", 1795833600, body)`), not with Keygate.
    static let referenceNew = "v1,rSIVPm73yZzWpAqAS9gs3D+W/9/J07Fcd2YfYiEO0Gw="
    static let referenceOld = "v1,UdBOPhlK9nhfFqRf8Nmt2HHty7WkML7rcat1FJjdJEo="

    @Test("the signature is Standard Webhooks v1 (known answers from the reference library), one per secret, space-separated")
    func signature() {
        let body = Array(#"{"id":"evt_1","type":"key.edited"}"#.utf8)
        let new = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        // A secret Keygate made before it signed this way: `whsec_` and 64 hex digits, read as base64 by every library.
        let old = "whsec_" + String(repeating: "0123456789abcdef", count: 4)
        #expect(WebhookRules.signature(secrets: [new], id: "evt_1", timestamp: 1_795_833_600, body: body) == Self.referenceNew)
        #expect(WebhookRules.signature(secrets: [old], id: "evt_1", timestamp: 1_795_833_600, body: body) == Self.referenceOld)
        #expect(
            WebhookRules.signature(secrets: [new, old], id: "evt_1", timestamp: 1_795_833_600, body: body)
                == Self.referenceNew + " " + Self.referenceOld)
        #expect(WebhookRules.signature(secrets: [new], id: "evt_2", timestamp: 1_795_833_600, body: body) != Self.referenceNew)
    }

    @Test("a new secret is whsec_ and 32 random bytes in base64")
    func secrets() throws {
        let secret = WebhookRules.newSecret()
        #expect(secret.hasPrefix("whsec_"))
        #expect(try #require(Data(base64Encoded: String(secret.dropFirst(6)))).count == 32)
        #expect(WebhookRules.signingKey(secret).count == 32)
        #expect(WebhookRules.newSecret() != secret)
    }

    @Test("a URL in the trail keeps scheme, host, port and path; no user info, query or fragment; token-like segments cut")
    func redaction() {
        #expect(WebhookRules.redactedURL("https://hooks.example.com:8443/keygate/events") == "https://hooks.example.com:8443/keygate/events")
        #expect(WebhookRules.redactedURL("https://hooks.example.com/k?token=s3cr3t&x=1") == "https://hooks.example.com/k?…")
        #expect(
            WebhookRules.redactedURL("https://hooks.slack.com/services/T0ABCDEF/B0ABCDEF/XyZ123abcDEF456ghiJKL789")
                == "https://hooks.slack.com/services/T0…/B0…/XyZ1…")
        #expect(WebhookRules.redactedURL("https://user:pass@example.com/a#frag") == "https://example.com/a")
        #expect(WebhookRules.redactedURL("https://[2606:4700::1]/hook") == "https://[2606:4700::1]/hook")
        #expect(!WebhookRules.redactedURL("https://e.com/hook/9f86d081884c7d659a2feaa0c55ad015").contains("9f86d081884c"))
        // Shorter token-like segments too: punctuation, percent-encoding, digits, or a long word.
        for segment in ["ab.c~d=1", "a%2Fb%3D", "x9k2", "QwErTyUiOpAsDf"] {
            #expect(!WebhookRules.redactedURL("https://e.com/\(segment)").contains(segment), "\(segment)")
        }
        #expect(WebhookRules.redactedURL("https://e.com/v1/hooks/keygate") == "https://e.com/v1/hooks/keygate")
    }

    @Test("retries double from the base, at most an hour apart, spread by the jitter, and stop after the retry period")
    func backoff() {
        let event = Date(timeIntervalSince1970: 1_000_000)
        let next = { (attempts: Int, now: Date, jitter: Double) in
            WebhookRules.nextAttempt(after: attempts, eventAt: event, now: now, base: 30, giveUpAfter: 86_400, jitter: jitter)
        }
        #expect(next(1, event, 1) == event.addingTimeInterval(30))
        #expect(next(2, event, 1) == event.addingTimeInterval(60))
        #expect(next(5, event, 1) == event.addingTimeInterval(480))
        #expect(next(20, event, 1) == event.addingTimeInterval(3600))
        #expect(next(2, event, 0.8) == event.addingTimeInterval(48))
        #expect(next(3, event.addingTimeInterval(86_300), 1) == nil)
        // The default jitter spreads retries that failed together.
        let spread = Set((0..<50).compactMap { _ in WebhookRules.nextAttempt(after: 3, eventAt: event, now: event, base: 30, giveUpAfter: 86_400) })
        #expect(spread.count > 10 && spread.allSatisfy { (96...144).contains($0.timeIntervalSince(event)) })
    }
}

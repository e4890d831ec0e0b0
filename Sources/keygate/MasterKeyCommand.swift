import ArgumentParser
import Foundation
import KeygateCore

/// `keygate master-key`: make a new master key, see which keys seal the stored API keys, and rotate online.
///
/// **Rotation, in order** (every server keeps serving; docs/decisions.md, "Master-key rotation"):
/// 1. `keygate master-key generate --out new.key` makes a key (or bring your own: 32 bytes, hex or base64).
/// 2. `keygate master-key rotate --new-key-file new.key` checks that every stored key opens with the current or the
///    new key (a wrong file stops here, before anything changes); installs the keyring: the current key becomes
///    `<masterKeyFile>.previous` (still opens) and the new one `<masterKeyFile>` (seals), each replaced atomically;
///    waits until every live server has re-read its files (they do every 2 s) and seals with the new key (their
///    heartbeats say so; on other hosts, install the same two files there); then re-seals every stored key not under
///    the new key, in batches, with progress on stderr; then verifies that every stored key opens with the new key
///    alone. Interrupted, it is run again with the same arguments and carries on.
/// 3. Once it says so, delete `<masterKeyFile>.previous` on every host (servers drop it within 2 s).
struct MasterKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master-key", abstract: "Generate a master key, show which keys seal the stored API keys, rotate online.",
        subcommands: [Generate.self, Status.self, Rotate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a new random master key to a file (mode 0600; never overwrites).")
        @Option(help: "Where to write it.") var out: String
        @Flag(help: "Print machine-readable JSON.") var json = false

        func run() throws {
            let hex = KeyCipher.generateMasterKeyHex()
            guard try writeKeyFile(out, hex: hex, exclusive: true) else { throw OperatorError("cannot write \(out): it exists") }
            let id = MasterKeyring.keyID(of: try KeyCipher.parseMasterKey(hex))
            Output.emit(json, ["file": out, "keyId": id]) { "wrote a new master key to \(out) (key id \(id))" }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stored keys by the master key that sealed them, and the live servers' keys.")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await withRuntime(common) { runtime in
                let census = try await runtime.keygate.masterKeys.storedKeyCensus()
                let instances = try await runtime.keygate.masterKeys.liveInstances()
                let out = StatusOutput(
                    sealsWith: runtime.keygate.cipher.primaryKeyID, opensWith: runtime.keygate.cipher.keyIDs, storedKeys: census,
                    servers: instances.map { .init(id: $0.id, sealsWith: $0.primaryKeyID, opensWith: $0.keyIDs) })
                Output.emit(common.json, out) { out.text }
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every stored API key under a new master key while the servers keep serving.")
        @OptionGroup var common: CommonOptions
        @Option(help: "The new master key (32 bytes, hex or base64).") var newKeyFile: String
        @Option(help: "Stored keys per transaction.") var batch = 500
        @Option(help: "How long to wait for every live server to seal with the new key.") var waitSeconds = 60

        func run() async throws {
            guard batch > 0, waitSeconds >= 0 else { throw ValidationError("--batch must be positive, --wait-seconds not negative") }
            guard let text = try readMasterKeyFile(newKeyFile) else {
                throw OperatorError("cannot read the new master key file \(newKeyFile)")
            }
            let newKey: [UInt8]
            do { newKey = try KeyCipher.parseMasterKey(text) } catch { throw OperatorError("\(newKeyFile): \(error)") }
            let newID = MasterKeyring.keyID(of: newKey)
            try await withRuntime(common) { runtime in
                let keygate = runtime.keygate
                let current = keygate.cipher
                let say = { (line: String) in FileHandle.standardError.write(Data((line + "\n").utf8)) }

                // 1. Nothing changes unless every stored key opens with the keys at hand.
                let oldRing = try Runtime.readKeyringOrInline(runtime)
                var ring = oldRing
                if oldRing.primary != newKey {
                    ring = MasterKeyring(primary: newKey, previous: [oldRing.primary])
                }
                try current.replaceKeyring(ring)
                let unopened = try await keygate.masterKeys.storedKeysThatDoNotOpen()
                guard unopened.isEmpty else {
                    try current.replaceKeyring(oldRing)
                    throw OperatorError(
                        "\(unopened.count == 20 ? "20 or more" : "\(unopened.count)") stored keys (organizations "
                            + "\(unopened.prefix(5).map(String.init).joined(separator: ", "))) open with neither the current nor the new "
                            + "master key: wrong key file? Nothing was changed")
                }

                // 2. The keyring on disk: the new key seals, the current one still opens.
                if oldRing.primary != newKey {
                    guard let file = runtime.masterKeyFile else {
                        throw OperatorError(
                            "the master key is given inline (KEYGATE_MASTER_KEY): set KEYGATE_MASTER_KEY to the new key and "
                                + "KEYGATE_MASTER_KEY_PREVIOUS to the current one on every server and here, then run this again")
                    }
                    try writeKeyFile(file + ".previous", hex: Secrets.hex(oldRing.primary), exclusive: false)
                    try writeKeyFile(file, hex: Secrets.hex(newKey), exclusive: false)
                    say("installed: \(file) seals with \(newID); \(file).previous (\(MasterKeyring.keyID(of: oldRing.primary))) still opens")
                }

                // 3. Every live server seals with the new key before anything is re-sealed.
                let deadline = Date().addingTimeInterval(TimeInterval(waitSeconds))
                while true {
                    let behind = try await keygate.masterKeys.liveInstances().filter { $0.primaryKeyID != newID }
                    if behind.isEmpty { break }
                    guard Date() < deadline else {
                        throw OperatorError(
                            "\(behind.count) live server(s) still seal with another key (\(behind.map { "\($0.id.prefix(8)): \($0.primaryKeyID)" }.joined(separator: ", "))): "
                                + "give each the new key as its master key file and the current one as <file>.previous, then run this again. "
                                + "Nothing was re-sealed")
                    }
                    say("waiting for \(behind.count) server(s) to seal with \(newID)…")
                    try await Task.sleep(for: .seconds(1))
                }

                // 4. Re-seal, then verify; a key changed meanwhile was sealed afresh by a server (under the new key).
                var last = Date.distantPast
                let pass = try await keygate.masterKeys.resealStoredKeys(batch: batch) { progress in
                    guard Date().timeIntervalSince(last) >= 1 else { return }
                    last = Date()
                    say("re-sealed \(progress.resealed) of \(progress.seen) stored keys looked at so far")
                }
                let verification = try await keygate.masterKeys.verifyStoredKeys(under: newID)
                guard verification.verified == verification.total else {
                    throw OperatorError(
                        "\(verification.total - verification.verified) stored keys are not under \(newID) yet (organizations "
                            + "\(verification.failing.prefix(5).map(String.init).joined(separator: ", "))): run this again")
                }
                let out = RotateOutput(
                    keyId: newID, storedKeys: verification.total, resealed: pass.resealed, alreadyCurrent: pass.current,
                    previousFile: runtime.masterKeyFile.map { $0 + ".previous" })
                Output.emit(common.json, out) { out.text }
            }
        }
    }

    struct StatusOutput: Encodable {
        struct Server: Encodable {
            let id: String
            let sealsWith: String
            let opensWith: [String]
        }
        let sealsWith: String
        let opensWith: [String]
        let storedKeys: [String: Int]
        let servers: [Server]

        var text: String {
            var lines = ["this keyring seals with \(sealsWith), opens with \(opensWith.joined(separator: ", "))", "stored keys by master key:"]
            lines += storedKeys.sorted { $0.key < $1.key }.map { "  \($0.key): \($0.value)" }
            if storedKeys.isEmpty { lines.append("  (none)") }
            lines.append("live servers: \(servers.isEmpty ? "none" : "")")
            lines += servers.map { "  \($0.id.prefix(8)) seals with \($0.sealsWith), opens with \($0.opensWith.joined(separator: ", "))" }
            return lines.joined(separator: "\n")
        }
    }

    struct RotateOutput: Encodable {
        let keyId: String
        let storedKeys: Int
        let resealed: Int
        let alreadyCurrent: Int
        let previousFile: String?

        var text: String {
            "all \(storedKeys) stored keys and webhook secrets open with master key \(keyId) alone (\(resealed) re-sealed now, "
                + "\(alreadyCurrent) already were). "
                + "The previous key is no longer needed: delete \(previousFile ?? "KEYGATE_MASTER_KEY_PREVIOUS") on every host "
                + "(servers drop it within 2 s)."
        }
    }
}

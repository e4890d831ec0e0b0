import Foundation
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The server's certificate chain and private key, read again from their files (`tls.cert`, `tls.key`) when they
/// change, so a renewed certificate needs no restart: every new TLS handshake takes the pair in force
/// (``contextCallback``, NIOSSL's certificate callback), connections already open keep theirs.
///
/// A new pair is taken only whole and valid: both files parse, and the key matches the certificate (a TLS context is
/// built from them); anything else (a file half-copied, a key for another certificate) is refused, logged, and the pair
/// in force is kept. Certificate managers that replace the two files one after the other therefore never make the
/// server serve a mismatched pair: the first file alone does not load, the second completes it.
public final class TLSCertificates: Sendable {
    struct Pair: @unchecked Sendable {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        /// The files' modification times and sizes when read.
        let stamp: [String]
    }

    let certificatePath: String
    let keyPath: String
    private let current: Mutex<Pair>
    /// The stamp of files that did not load, so they are reported once, not at every look.
    private let refused = Mutex<[String]?>(nil)

    /// Reads the pair; throws when it does not load (the server then does not start).
    public init(certificatePath: String, keyPath: String) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        current = Mutex(try Self.load(certificatePath: certificatePath, keyPath: keyPath))
    }

    /// The configuration the server starts with: the pair read at start, and the callback that hands each handshake the
    /// pair in force.
    public func serverConfiguration() -> TLSConfiguration {
        let pair = current.withLock { $0 }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: pair.chain.map { .certificate($0) }, privateKey: .privateKey(pair.key))
        tls.minimumTLSVersion = .tlsv12
        tls.sslContextCallback = contextCallback
        return tls
    }

    /// Per handshake: the chain and key in force.
    var contextCallback: NIOSSLContextCallback {
        { [self] _, promise in
            let pair = current.withLock { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = pair.chain.map { .certificate($0) }
            override.privateKey = .privateKey(pair.key)
            promise.succeed(override)
        }
    }

    /// Reads the files again when either changed (modification time or size).
    /// - Returns: whether a new pair is now in force.
    /// - Throws: when the changed files do not make a valid pair; the pair in force is kept.
    @discardableResult
    public func reloadIfChanged() throws -> Bool {
        let stamp = Self.stamp(certificatePath, keyPath)
        guard stamp != current.withLock({ $0.stamp }), stamp != refused.withLock({ $0 }) else { return false }
        do {
            let pair = try Self.load(certificatePath: certificatePath, keyPath: keyPath)
            current.withLock { $0 = pair }
            return true
        } catch {
            refused.withLock { $0 = stamp }
            throw error
        }
    }

    static func load(certificatePath: String, keyPath: String) throws -> Pair {
        let stamp = stamp(certificatePath, keyPath)
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        // A context refuses a key that does not match the certificate.
        _ = try NIOSSLContext(
            configuration: TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
        return Pair(chain: chain, key: key, stamp: stamp)
    }

    static func stamp(_ paths: String...) -> [String] {
        paths.map { path in
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(modified):\((attributes?[.size] as? Int) ?? -1)"
        }
    }
}

/// Reloads the TLS certificate (``TLSCertificates``) every ``interval`` when its files changed, and at once on SIGHUP.
struct TLSReloadService: Service, CustomStringConvertible {
    let certificates: TLSCertificates
    let interval: Duration
    let logger: Logger

    var description: String { "TLSReloadService" }

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await _ in hangups { reload(because: "SIGHUP") }
                    }
                    group.addTask {
                        while true {
                            try await Task.sleep(for: interval)
                            reload(because: "changed")
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch is CancellationError {}
    }

    private func reload(because reason: String) {
        do {
            if try certificates.reloadIfChanged() {
                logger.notice("TLS certificate reloaded", metadata: ["file": "\(certificates.certificatePath)", "reason": "\(reason)"])
            }
        } catch {
            logger.error(
                "the new TLS certificate or key does not load: keeping the one in force",
                metadata: ["file": "\(certificates.certificatePath)", "error": "\(error)"])
        }
    }
}

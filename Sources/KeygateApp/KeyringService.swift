import Foundation
import KeygateCore
import Logging
import ServiceLifecycle

/// Keeps a server's master keyring current and tells the others which keys it holds, for online master-key rotation.
///
/// Every ``interval`` it reads the keyring again (the executable's `masterKeyFile` and `<masterKeyFile>.previous`)
/// and, when it changed, swaps the cipher's keyring: installing a new key needs no restart. Then it records a
/// heartbeat (``Keygate/recordHeartbeat(instanceID:)``), which `keygate master-key rotate` waits on before it
/// re-seals anything. A keyring that cannot be read (a file half-written by hand) is logged and the one in force is
/// kept. On graceful shutdown the heartbeat is removed.
public struct KeyringService: Service, CustomStringConvertible {
    let keygate: Keygate
    let reload: (@Sendable () throws -> MasterKeyring)?
    let interval: Duration
    let logger: Logger
    /// This process, in heartbeats.
    let instanceID = UUID().uuidString

    public init(keygate: Keygate, reload: (@Sendable () throws -> MasterKeyring)?, interval: Duration = .seconds(2), logger: Logger) {
        self.keygate = keygate
        self.reload = reload
        self.interval = interval
        self.logger = logger
    }

    public var description: String { "KeyringService" }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                var loaded: MasterKeyring?
                while true {
                    loaded = refresh(loaded)
                    do {
                        try await keygate.masterKeys.recordHeartbeat(instanceID: instanceID)
                    } catch {
                        logger.warning("heartbeat failed", metadata: ["error": "\(String(reflecting: error))"])
                    }
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {}
        try? await keygate.masterKeys.forgetHeartbeat(instanceID: instanceID)
    }

    /// Reads the keyring and applies it when it differs from the last one read.
    private func refresh(_ last: MasterKeyring?) -> MasterKeyring? {
        guard let reload else { return last }
        do {
            let ring = try reload()
            guard ring != last else { return last }
            try keygate.cipher.replaceKeyring(ring)
            if last != nil {
                logger.notice(
                    "master keyring reloaded",
                    metadata: ["sealsWith": "\(keygate.cipher.primaryKeyID)", "opensWith": "\(keygate.cipher.keyIDs.joined(separator: ","))"])
            }
            return ring
        } catch {
            logger.error("cannot read the master keyring; keeping the one in force", metadata: ["error": "\(error)"])
            return last
        }
    }
}

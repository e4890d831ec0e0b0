import HummingbirdBcrypt
import KeygateCore
import NIOPosix

/// bcrypt from hummingbird-auth, run on NIO's blocking thread pool so it never stalls an event loop.
public struct BcryptPasswordHasher: PasswordHasher {
    /// The work factor (2^cost rounds). 12 in production; tests use the minimum (4) for speed.
    public let cost: UInt8

    public init(cost: UInt8 = 12) { self.cost = min(max(cost, 4), 31) }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, against hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}

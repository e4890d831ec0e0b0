import HummingbirdBcrypt
import KeygateCore
import NIOPosix

/// bcrypt from hummingbird-auth, run on NIO's blocking thread pool so it never stalls an event loop.
public struct BcryptPasswordHasher: PasswordHasher {
    /// The work factor (2^cost rounds). 12 in production; tests use the minimum (4) for speed.
    public let cost: Int
    /// bcrypt's lowest cost.
    public var minimumCost: Int { 4 }

    public init(cost: Int = 12) { self.cost = min(max(cost, 4), 31) }

    public func hash(_ password: String) async throws -> String { try await hash(password, cost: cost) }

    public func hash(_ password: String, cost: Int) async throws -> String {
        let cost = UInt8(min(max(cost, 4), 31))
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, against hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// The cost in a modular-crypt bcrypt hash, `$2a$`/`$2b$`/`$2y$` then two digits: `$2b$12$…` is 12.
    public func cost(of hash: String) -> Int? {
        let bytes = Array(hash.utf8.prefix(7))
        guard bytes.count == 7, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"), bytes[3] == UInt8(ascii: "$"),
            bytes[6] == UInt8(ascii: "$"), [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]),
            let cost = Int(String(decoding: bytes[4...5], as: UTF8.self)), (4...31).contains(cost)
        else { return nil }
        return cost
    }
}

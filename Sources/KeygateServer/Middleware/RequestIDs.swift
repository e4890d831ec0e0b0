import HTTPTypes
import Logging
import NIOPosix

extension HTTPField.Name {
    /// `X-Request-Id`: a request's id, taken from the client or a proxy, or made here; echoed on the answer.
    public static let xRequestID = Self("X-Request-Id")!
}

/// Every request's id: on the answer (`X-Request-Id`) and in every log line written while the request is handled
/// (`request_id`), so an operator can find one request's lines and a client can quote it.
///
/// An incoming `X-Request-Id` (from a proxy or the client) is kept when it is 1-128 characters of `A-Z a-z 0-9 . _ : -`
/// (an id that could break a log line or a header is replaced, not trusted); otherwise the id is 96 bits in hex from
/// ``generate()``.
///
/// **What it costs.** Nothing is added to the request's `Logger`: the id is bound to the task handling the request
/// (``current``, a task-local, which child tasks inherit), and ``metadataProvider``, which the server's log handler
/// holds, reads it only when a line is actually written. Setting logger metadata per request copied the logger's
/// storage and its metadata dictionary on every request, line or no line (issue 19's profile).
public enum RequestIDs {
    /// The metadata key of the id in log lines.
    public static let metadataKey = "request_id"

    /// The id of the request this task is handling, if any.
    @TaskLocal public static var current: String?

    /// Adds `request_id` to a line written while a request is handled; nothing otherwise. Give it to the log handler.
    public static let metadataProvider = Logger.MetadataProvider {
        guard let id = current else { return [:] }
        return [metadataKey: .string(id)]
    }

    /// The id for a request carrying `header` (its `X-Request-Id`, if any).
    static func id(from header: String?) -> String { header.flatMap(accepted) ?? generate() }

    /// `value` if it is a well-formed id.
    static func accepted(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({ byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "-")
            })
        else { return nil }
        return value
    }

    /// 96 bits in lower-case hex (24 characters) from this thread's generator: no system call and no lock per id.
    static func generate() -> String {
        let generator = threadGenerator.currentValue ?? makeThreadGenerator()
        let high = generator.next()
        let low = UInt32(truncatingIfNeeded: generator.next())
        return String(unsafeUninitializedCapacity: 24) { buffer in
            let digits: StaticString = "0123456789abcdef"
            digits.withUTF8Buffer { digits in
                for i in 0..<16 { buffer[i] = digits[Int((high >> (60 - 4 * UInt64(i))) & 0xF)] }
                for i in 0..<8 { buffer[16 + i] = digits[Int((low >> (28 - 4 * UInt32(i))) & 0xF)] }
            }
            return 24
        }
    }

    private static let threadGenerator = ThreadSpecificVariable<Xoshiro256>()

    private static func makeThreadGenerator() -> Xoshiro256 {
        var system = SystemRandomNumberGenerator()
        let made = Xoshiro256(seed: (system.next(), system.next(), system.next(), system.next()))
        threadGenerator.currentValue = made
        return made
    }
}

/// xoshiro256** (Blackman and Vigna): a fast generator with 256 bits of state, seeded once per thread from the
/// system's random source. Request ids need to be unique, nothing more: they are neither secret nor unpredictable
/// (a few ids from one thread reveal its state, and a client may send its own id anyway), and nothing is authorized
/// by one. One instance is only ever used by the thread that made it (``ThreadSpecificVariable``; ``generate()`` does
/// not suspend), hence `@unchecked Sendable`.
final class Xoshiro256: @unchecked Sendable {
    private var s0, s1, s2, s3: UInt64

    init(seed: (UInt64, UInt64, UInt64, UInt64)) {
        (s0, s1, s2, s3) = seed
        if s0 | s1 | s2 | s3 == 0 { s0 = 0x9E37_79B9_7F4A_7C15 }  // the one state the generator cannot leave
    }

    func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }
}

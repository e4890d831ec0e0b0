import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore
import Logging

extension HTTPField.Name {
    /// `X-Request-Id`: a request's id, taken from the client or a proxy, or made here; echoed on the answer.
    public static let xRequestID = Self("X-Request-Id")!
}

/// Gives every request an id and puts it in every log line of that request (`request_id`) and on the answer
/// (`X-Request-Id`), so an operator can find one request's lines and a client can quote it.
///
/// An incoming `X-Request-Id` (from a proxy or the client) is kept when it is 1-128 characters of `A-Z a-z 0-9 . _ : -`
/// (an id that could break a log line or a header is replaced, not trusted); otherwise the id is 96 random bits in
/// hex. Outermost of the middlewares, so errors turned into answers by the inner ones carry it too.
struct RequestIDMiddleware: RouterMiddleware {
    static let metadataKey = "request_id"

    func handle(
        _ request: Request, context: KeygateRequestContext, next: (Request, KeygateRequestContext) async throws -> Response
    ) async throws -> Response {
        let id = request.headers[.xRequestID].flatMap(Self.accepted) ?? Self.generate()
        var context = context
        context.logger[metadataKey: Self.metadataKey] = "\(id)"
        var response = try await next(request, context)
        response.headers[.xRequestID] = id
        return response
    }

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

    /// 96 random bits, hex.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        for _ in 0..<3 {
            var word = generator.next() as UInt32
            for _ in 0..<8 {
                bytes.append(digits[Int(word & 0xF)])
                word >>= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore
import Logging

/// Turns every error into the legacy JSON error shape `{"code","message"}`: the one place errors meet HTTP (the
/// portal's and console's pages have theirs in ``BrowserAreaErrors``). Applied by ``EdgeMiddleware``.
///
/// Domain errors map by case; framework errors (unknown route, body too large) keep their status with a code
/// derived from it; anything else is a 500 whose body says nothing about the cause (the cause is logged).
enum APIErrors {
    /// The response for `error`.
    static func response(for error: any Error, logger: Logger) -> Response {
        switch error {
        case let error as KeygateError:
            return domainResponse(error)
        case let error as KeyCipherError:
            // The stored key is sealed under a master key this server does not hold (a rotation's order of steps
            // skipped, or a wrong key file): the server's fault and temporary, never the caller's.
            logger.error("cannot open a stored key with this server's master keyring", metadata: ["error": "\(error)"])
            return json(.serviceUnavailable, code: "SERVICE_UNAVAILABLE", message: "The server cannot read this organization's key now")
        case let error as any HTTPResponseError:
            let status = error.status
            let message = (error as? HTTPError)?.body ?? status.reasonPhrase
            return json(status, code: code(for: status), message: message)
        default:
            logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            return json(.internalServerError, code: "UNEXPECTED_ERROR", message: "An unexpected error occurred")
        }
    }

    static func domainResponse(_ error: KeygateError) -> Response {
        if case .rateLimited(let seconds, let limit) = error { return rateLimited(retryAfter: seconds, limit: limit) }
        let (status, code, message) = error.http
        var response = json(status, code: code, message: message)
        if case .loginLocked(let seconds) = error { response.headers[.retryAfter] = String(seconds) }
        if case .unavailable(let seconds) = error { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    /// 429 in the legacy shape (the SDK reads `Retry-After`, header or body, and strips " seconds").
    static func rateLimited(retryAfter: Int, limit: String) -> Response {
        var response = jsonObject(
            .tooManyRequests,
            ["code": "RATE_LIMIT_EXCEEDED", "message": "Rate Limit (\(limit)) exceeded", "Retry-After": "\(retryAfter) seconds"])
        response.headers[.retryAfter] = String(retryAfter)
        return response
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "INVALID_INPUT_ARGUMENT"
        case 401: "SESSION_NOT_VALID"
        case 403: "NOT_AUTHORIZED"
        case 404: "RESOURCE_NOT_FOUND"
        case 405: "METHOD_NOT_ALLOWED"
        case 409: "DUPLICATE_ITEM"
        case 413: "PAYLOAD_TOO_LARGE"
        case 415: "UNSUPPORTED_MEDIA_TYPE"
        case 429: "RATE_LIMIT_EXCEEDED"
        case 503: "SERVICE_UNAVAILABLE"
        default: status.code >= 500 ? "UNEXPECTED_ERROR" : "INVALID_REQUEST"
        }
    }

    static func json(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        jsonObject(status, ["code": code, "message": message])
    }

    static func jsonObject(_ status: HTTPResponse.Status, _ object: [String: String]) -> Response {
        let data = (try? JSONEncoder.keygate.encode(object)) ?? Data(#"{"code":"UNEXPECTED_ERROR","message":""}"#.utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension JSONEncoder {
    /// Sorted keys: stable output for clients and tests. One shared instance (its options never change after
    /// this, and encoding is thread-safe); building one per response showed in the request profile.
    static let keygate: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

extension KeygateError {
    /// Status, legacy code and message of a domain error: shared by the API's JSON and the portal's pages.
    var http: (status: HTTPResponse.Status, code: String, message: String) {
        switch self {
        case .invalidInput(let message): (.badRequest, "INVALID_INPUT_ARGUMENT", message)
        case .invalidCredentials: (.badRequest, "INVALID_USERNAME_OR_PASSWORD", "Invalid email or password")
        case .sessionNotValid: (.unauthorized, "SESSION_NOT_VALID", "Session is not valid or has expired")
        case .forbidden(let message): (.forbidden, "NOT_AUTHORIZED", message)
        case .keyDisabled: (.forbidden, "API_KEY_DISABLED", "The organization's API key is disabled by the provider")
        case .adminDisabled: (.forbidden, "ADMIN_DISABLED", "This admin account is disabled")
        case .notFound(let message): (.notFound, "RESOURCE_NOT_FOUND", message)
        case .conflict(let message): (.conflict, "DUPLICATE_ITEM", message)
        case .editLockNotAvailable: (.conflict, "EDIT_LOCK_NOT_AVAILABLE", "Another change to this resource is in progress; retry")
        case .rateLimited(let seconds, let limit): (.tooManyRequests, "RATE_LIMIT_EXCEEDED", "Rate Limit (\(limit)) exceeded; retry in \(seconds) s")
        case .loginLocked(let seconds): (.forbidden, "LIMIT_EXCEEDED", "Too many failed logins; try again in \(seconds) s")
        case .unavailable(let seconds):
            (.serviceUnavailable, "SERVICE_UNAVAILABLE", "The database does not answer; retry in \(seconds) s")
        }
    }
}

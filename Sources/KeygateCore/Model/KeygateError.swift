/// Every failure the domain reports. Framework-free; the HTTP layer maps each case to a status and the
/// legacy `{"code","message"}` body in exactly one place.
public enum KeygateError: Error, Sendable, Equatable {
    /// The request is malformed or a value breaks a rule (400 `INVALID_INPUT_ARGUMENT`).
    case invalidInput(String)
    /// Login failed; deliberately silent about which part was wrong (400 `INVALID_USERNAME_OR_PASSWORD`).
    case invalidCredentials
    /// No session, or it expired or was ended (401 `SESSION_NOT_VALID`).
    case sessionNotValid
    /// The caller's role does not allow this (403 `NOT_AUTHORIZED`).
    case forbidden(String)
    /// The provider disabled the organization's key (403 `API_KEY_DISABLED`).
    case keyDisabled
    /// The admin account is disabled (403 `ADMIN_DISABLED`).
    case adminDisabled
    /// The resource does not exist in the caller's organization (404 `RESOURCE_NOT_FOUND`).
    case notFound(String)
    /// The request conflicts with the current state, e.g. adding a second key (409 `DUPLICATE_ITEM`).
    case conflict(String)
    /// Another change won a race on the same record (409 `EDIT_LOCK_NOT_AVAILABLE`).
    case editLockNotAvailable
    /// Too many requests; retry after the given number of whole seconds (429).
    case rateLimited(retryAfterSeconds: Int, limit: String)
    /// Too many failed sign-ins for this login name or address; retry after the given whole seconds.
    ///
    /// Deliberately not a 429: the Go SDK retries a 429 up to 100 times, sleeping `Retry-After` each time (15 minutes
    /// for a lockout), and the Python SDK 5 times; both give up at once on a 403. So a locked login answers
    /// 403 `LIMIT_EXCEEDED` (a code Zscaler uses) with `Retry-After` for a person or a script that wants it.
    case loginLocked(retryAfterSeconds: Int)
    /// The database did not answer within `database.waitSeconds`, or its connection broke: nothing was decided, and the
    /// caller may retry after the given whole seconds (503 `SERVICE_UNAVAILABLE` with `Retry-After`).
    case unavailable(retryAfterSeconds: Int)
}

extension KeygateError {
    /// A sentence for an operator (the CLI, an import report).
    public var message: String {
        switch self {
        case .invalidInput(let m), .forbidden(let m), .notFound(let m), .conflict(let m): m
        case .keyDisabled: "the key is disabled"
        case .adminDisabled: "the admin is disabled"
        case .editLockNotAvailable: "another change won the race; retry"
        case .invalidCredentials: "invalid credentials"
        case .sessionNotValid: "session not valid"
        case .rateLimited(let s, _): "rate limited; retry in \(s) s"
        case .loginLocked(let s): "too many failed logins; retry in \(s) s"
        case .unavailable(let s): "the database does not answer; retry in \(s) s"
        }
    }
}

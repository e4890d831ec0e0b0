import KeygateCore
import Logging

/// One log line for every refused sign-in (API login, portal, console), so an operator can see guessing and
/// lockouts: `login refused` with the surface, the outcome (`invalid`, `locked`, `disabled`), the client address and
/// the login name as typed (at most 64 characters; the log handlers quote and escape it, so no name can add a field or
/// a line). Never the password or the key.
///
/// Every kind of wrong credential is one outcome, `invalid`, logged by the same code after the same work, so the
/// log line neither tells which part was wrong nor makes one kind slower than another. The counts behind the
/// lockouts are in the database: `keygate login-failures` lists them.
enum LoginLog {
    static func refused(_ logger: Logger, surface: String, loginName: String, address: String, error: any Error) {
        let outcome: String
        switch error as? KeygateError {
        case .invalidCredentials?: outcome = "invalid"
        case .loginLocked?: outcome = "locked"
        case .adminDisabled?, .keyDisabled?: outcome = "disabled"
        default: return
        }
        let name = String(loginName.unicodeScalars.prefix(64))
        logger.notice(
            "login refused", metadata: ["surface": "\(surface)", "outcome": "\(outcome)", "client": "\(address)", "login": "\(name)"])
    }
}

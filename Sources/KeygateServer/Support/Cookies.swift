import Hummingbird
import KeygateCore

/// The one place Keygate reads and writes cookies, for the API (`JSESSIONID`), the portal (`kg_portal`) and the
/// console (`kg_provider`), and derives the browser areas' CSRF tokens.
///
/// Every cookie Keygate sets is `HttpOnly; SameSite=Strict`, scoped to its area's path, and `Secure` when
/// ``ServerSettings/cookiesAreSecure(_:_:)`` says the client used HTTPS. The API's value is followed by `;`, as the
/// SDKs' regex `JSESSIONID=(.*?);` needs.
enum Cookies {
    /// The values of every cookie called `name` in the request's `Cookie` headers, in order, at most `limit`.
    static func values(_ request: Request, named name: String, limit: Int = .max) -> [Substring] {
        var found: [Substring] = []
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let trimmed = part.drop(while: { $0 == " " })
                guard trimmed.hasPrefix(name), trimmed.dropFirst(name.count).first == "=" else { continue }
                found.append(trimmed.dropFirst(name.count + 1))
                if found.count == limit { return found }
            }
        }
        return found
    }

    /// The first value of the cookie `name`, if the request has it.
    static func value(_ request: Request, named name: String) -> Substring? { values(request, named: name, limit: 1).first }

    /// A `Set-Cookie` value; a nil `value` expires the cookie (`Max-Age=0`).
    static func set(_ name: String, _ value: String?, path: String, secure: Bool) -> String {
        let flags = "; Path=\(path); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
        return value.map { "\(name)=\($0)\(flags)" } ?? "\(name)=\(flags); Max-Age=0"
    }

    /// A browser area's CSRF token for a cookie value: a page from another origin can neither read the cookie nor
    /// compute this. Per area (`portal`, `provider`), so one area's token is no good in the other.
    static func csrfToken(area: String, cookieValue: some StringProtocol) -> String {
        Secrets.sha256Hex("keygate-\(area)-csrf\u{0}" + cookieValue)
    }
}

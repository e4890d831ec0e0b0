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
    ///
    /// Read over the header's UTF-8 bytes (`name=value` pairs separated by `;`, spaces before a name skipped): it runs
    /// on every API call, and splitting by `Character` cost more than the rest of the session check (issue 19).
    static func values(_ request: Request, named name: String, limit: Int = .max) -> [Substring] {
        var found: [Substring] = []
        for field in request.headers where field.name == .cookie {
            let utf8 = field.value.utf8
            var start = utf8.startIndex
            while start < utf8.endIndex {
                let end = utf8[start...].firstIndex(of: UInt8(ascii: ";")) ?? utf8.endIndex
                var pair = utf8[start..<end]
                while pair.first == UInt8(ascii: " ") { pair = pair.dropFirst() }
                if pair.starts(with: name.utf8) {
                    let rest = pair.dropFirst(name.utf8.count)
                    if rest.first == UInt8(ascii: "=") {
                        found.append(Substring(rest.dropFirst()))
                        if found.count == limit { return found }
                    }
                }
                start = end < utf8.endIndex ? utf8.index(after: end) : end
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

import Hummingbird
import KeygateCore

/// Checks the `JSESSIONID` cookie on every API request and puts the principal in the context.
///
/// The check reads the database each time (one query), so a key change, disabled admin or ended session made
/// by any instance or the CLI is in force on the very next request.
struct SessionMiddleware: RouterMiddleware {
    let keygate: Keygate

    func handle(
        _ request: Request, context: KeygateRequestContext,
        next: (Request, KeygateRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.principal = try await keygate.authenticate(token: request.sessionToken)
        return try await next(request, context)
    }
}

extension Request {
    /// The JSESSIONID value from the `Cookie` header(s), if any.
    var sessionToken: Substring? {
        for header in headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let trimmed = part.drop(while: { $0 == " " })
                if trimmed.hasPrefix("JSESSIONID=") { return trimmed.dropFirst("JSESSIONID=".count) }
            }
        }
        return nil
    }
}

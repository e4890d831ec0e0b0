import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore

/// Checks the caller's session on every API request and puts the principal in the context.
///
/// The session id may arrive several times: the Go SDK re-logs in after a 401 and its cookie jar then sends the stale
/// and the new id together (`Cookie: JSESSIONID=<stale>; JSESSIONID=<new>`, stale first), plus its own
/// `JSessionID: <id>` request header. As Tomcat does, the first *valid* one wins (cookies in order, then the header);
/// only ``KeygateError/sessionNotValid`` moves on to the next, and at most ``Request/maxSessionCandidates`` are
/// tried, so a request cannot make the server check an unbounded number of ids.
struct SessionMiddleware: RouterMiddleware {
    let keygate: Keygate

    func handle(
        _ request: Request, context: KeygateRequestContext,
        next: (Request, KeygateRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        let principal = try await authenticate(request.sessionTokens)
        context.principal = principal
        // Every session-checked request counts as usage (in memory; flushed by the server's usage service).
        keygate.recordUsage(principal)
        return try await next(request, context)
    }

    private func authenticate(_ tokens: [Substring]) async throws -> Principal {
        for token in tokens {
            do {
                return try await keygate.authenticate(token: token)
            } catch KeygateError.sessionNotValid {
                continue
            }
        }
        throw KeygateError.sessionNotValid
    }
}

extension Request {
    /// The most session ids one request may offer.
    static let maxSessionCandidates = 4

    /// Every JSESSIONID value from the `Cookie` header(s), in order, then the `JSessionID` request header's.
    var sessionTokens: [Substring] {
        var tokens = Cookies.values(self, named: "JSESSIONID", limit: Self.maxSessionCandidates)
        if let header = headers[.jSessionID] { tokens.append(Substring(header.trimmingCharacters(in: .whitespaces))) }
        return Array(tokens.prefix(Self.maxSessionCandidates))
    }
}

extension HTTPField.Name {
    /// The Go SDK's own session header.
    static let jSessionID = HTTPField.Name("JSessionID")!
}

import Foundation
import HTTPTypes
import Hummingbird
import KeygateCore

/// `POST/GET/DELETE /auth` (ZTW) and `/authenticatedSession` (ZIA): creating, checking and ending sessions.
struct LegacyAuthController {
    let keygate: Keygate
    /// Decides the cookie's `Secure` flag.
    let settings: ServerSettings

    /// Routes that need no session.
    func addPublicRoutes(to group: RouterGroup<KeygateRequestContext>) {
        group.post("auth") { request, context in try await self.login(request, context, kind: .ztw) }
        group.post("authenticatedSession") { request, context in try await self.login(request, context, kind: .zia) }
        group.delete("auth") { request, _ in try await self.logout(request, status: .noContent) }
        group.delete("authenticatedSession") { request, _ in try await self.logout(request, status: .noContent) }
    }

    /// Routes behind the session check.
    func addSessionRoutes(to group: RouterGroup<APIContext>) {
        group.get("auth") { _, _ in try jsonResponse(AuthDTO()) }
        group.get("authenticatedSession") { _, _ in try jsonResponse(AuthDTO()) }
    }

    /// Login: `{"apiKey","username","password","timestamp"}`; the timestamp may be a number or a string.
    func login(_ request: Request, _ context: KeygateRequestContext, kind: SessionKind) async throws -> Response {
        let login = try await JSONBody.decode(LoginInput.self, request, context: context).request
        let token: String
        do {
            token = try await keygate.sessions.login(login, kind: kind, clientAddress: context.clientAddress)
        } catch {
            LoginLog.refused(context.logger, surface: "api", loginName: login.username, address: context.clientAddress, error: error)
            throw error
        }
        let cookie = Cookies.set("JSESSIONID", token, path: "/", secure: settings.cookiesAreSecure(request, context))
        return try jsonResponse(AuthDTO(), headers: [.setCookie: cookie])
    }

    /// Ends the first live session among the ids the request offers (see ``SessionMiddleware``): the stale id a
    /// Go client still carries must not shadow the one it means to end.
    func logout(_ request: Request, status: HTTPResponse.Status) async throws -> Response {
        for token in request.sessionTokens where try await keygate.sessions.logout(token: token) { break }
        return Response(status: status)
    }
}

extension HTTPField.Name {
    /// `X-Forwarded-Proto`.
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
}

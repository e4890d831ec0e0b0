import Foundation
import Hummingbird
import KeygateCore

/// The browser's live portal sessions, sorted by organization name. Tokens that no longer work stay in the cookie,
/// ignored, until the next sign-in or sign-out rewrites it: rewriting it on an ordinary page would change the CSRF
/// token under a form already on screen.
struct PortalVisit: Sendable {
    var sessions: [(token: String, snapshot: PortalSnapshot)] = []

    func session(orgID: Int64) -> (token: String, snapshot: PortalSnapshot)? {
        sessions.first { $0.snapshot.session.orgID == orgID }
    }

    /// The browser's live sessions, in one read whatever the number of tokens (at most ``PortalRequest/maxSessions``).
    static func resolve(_ request: Request, keygate: Keygate) async throws -> PortalVisit {
        var visit = PortalVisit()
        visit.sessions = try await keygate.portal.portalSessions(tokens: PortalRequest.tokens(request)).map { (String($0.token), $0.snapshot) }
        visit.sessions.sort { $0.snapshot.organizationName.localizedStandardCompare($1.snapshot.organizationName) == .orderedAscending }
        return visit
    }
}

/// Resolves, for every `/portal/orgs/{orgID}/…` route, the browser's sessions and the one for the path's
/// organization, and hands them to the route's ``PortalContext``.
struct PortalSessionMiddleware: RouterMiddleware {
    let keygate: Keygate

    func handle(
        _ request: Request, context: KeygateRequestContext, next: (Request, KeygateRequestContext) async throws -> Response
    ) async throws -> Response {
        let visit = try await PortalVisit.resolve(request, keygate: keygate)
        guard !visit.sessions.isEmpty else { throw KeygateError.sessionNotValid }
        guard let orgID = context.parameters.get("orgID", as: Int64.self), let session = visit.session(orgID: orgID) else {
            throw KeygateError.notFound("You are not signed in to that organization. Sign in with an account there to add it.")
        }
        var context = context
        context.portal = PortalContext.Resolved(visit: visit, session: session.snapshot)
        return try await next(request, context)
    }
}

/// The context of a portal page of one organization: the signed-in session for it is there, not optional.
struct PortalContext: ChildRequestContext, KeygateContext {
    /// What ``PortalSessionMiddleware`` resolved.
    struct Resolved: Sendable {
        let visit: PortalVisit
        let session: PortalSnapshot
    }

    var coreContext: CoreRequestContextStorage
    /// Every organization the browser is signed in to (the switcher, "apply one key to all").
    let visit: PortalVisit
    /// The session for the path's organization.
    let session: PortalSnapshot
    let addresses: RequestAddresses

    init(context: KeygateRequestContext) throws {
        guard let resolved = context.portal else { throw KeygateError.sessionNotValid }
        self.coreContext = context.coreContext
        self.visit = resolved.visit
        self.session = resolved.session
        self.addresses = context.addresses
    }
}

import HTTPTypes
import Hummingbird
import KeygateCore
import Synchronization

/// The routes the router serves, by path template, for answering a known path with an unknown method.
///
/// Filled once, when the router is complete (``buildRouter(keygate:settings:)``); read only for requests no route
/// matched, so the hot path never touches it.
final class RouteTable: Sendable {
    private let routes = Mutex<[(segments: [Substring], methods: [HTTPRequest.Method])]>([])

    /// Records every route of `router`.
    func fill<Context>(from router: Router<Context>) {
        var table: [String: [HTTPRequest.Method]] = [:]
        for route in router.routes { table["\(route.path)", default: []].append(route.method) }
        let entries = table.map { (segments: Self.segments(of: $0.key), methods: $0.value) }
        routes.withLock { $0 = entries }
    }

    /// The methods served at `path`, sorted; empty when no route has this path. As in the router, the template with
    /// the fewest captures wins (`/adminRoles/lite` is not `/adminRoles/{id}`).
    func methods(at path: String) -> [String] {
        let requested = Self.segments(of: path)
        let matching = routes.withLock { routes in routes.filter { Self.matches(template: $0.segments, path: requested) } }
        let captures = { (segments: [Substring]) in segments.filter { $0.first == "{" || $0 == "*" }.count }
        guard let fewest = matching.map({ captures($0.segments) }).min() else { return [] }
        let methods = matching.filter { captures($0.segments) == fewest }.flatMap(\.methods)
        return Set(methods.map(\.rawValue)).sorted()
    }

    private static func segments(of path: String) -> [Substring] { path.split(separator: "/", omittingEmptySubsequences: true) }

    private static func matches(template: [Substring], path: [Substring]) -> Bool {
        template.count == path.count
            && zip(template, path).allSatisfy { pattern, segment in pattern.first == "{" || pattern == "*" || pattern == segment }
    }
}

extension RouteTable {
    /// A 404 for a path the API serves with another method becomes 405 with an `Allow` header (RFC 9110 §15.5.6):
    /// a client learns that the path is right and which methods it takes. The portal's and console's pages keep
    /// their 404 page. Applied by ``EdgeMiddleware`` to every answer.
    func methodNotAllowed(_ response: Response, request: Request, matchedRoute: String?) -> Response {
        guard response.status == .notFound, matchedRoute == nil || matchedRoute == "NotFound" else { return response }
        let path = request.uri.path
        guard !path.hasPrefix("/portal"), !path.hasPrefix("/provider") else { return response }
        let allowed = methods(at: path)
        guard !allowed.isEmpty else { return response }
        var refused = APIErrors.json(
            .methodNotAllowed, code: "METHOD_NOT_ALLOWED", message: "\(request.method.rawValue) is not served at this path")
        refused.headers[.allow] = allowed.joined(separator: ", ")
        return refused
    }
}

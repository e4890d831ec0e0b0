import Hummingbird
import KeygateCore
import Logging
import Synchronization

/// Activation endpoints (Keygate applies every change at once, so nothing is ever pending) and `/health`.
struct StatusController {
    let keygate: Keygate
    let readiness: Readiness

    struct ActivationDTO: Encodable {
        let orgEditStatus = "EDITS_CLEARED"
        let orgLastActivateStatus = "CAC_ACTV_UI"
        let adminActivateStatus = "ADM_ACTV_DONE"
        let adminStatusMap: [String: String] = [:]
    }

    func addSessionRoutes(to group: RouterGroup<APIContext>) {
        group.get("ecAdminActivateStatus") { _, _ in try jsonResponse(ActivationDTO()) }
        group.put("ecAdminActivateStatus/activate") { _, _ in try jsonResponse(ActivationDTO()) }
        group.get("status") { _, _ in try jsonResponse(["status": "ACTIVE"]) }
        group.post("status/activate") { _, _ in try jsonResponse(["status": "ACTIVE"]) }
    }

    /// Unauthenticated health: 200 when the database answers, 503 otherwise. `sessionCache` says whether session
    /// checks are served from memory (`live`), are reading the database because change announcements are not
    /// being received (`suspended`), or the cache is not configured (`off`).
    ///
    /// `/health/ready` is for balancers: `503` from the moment the server begins to stop (``Readiness``), else `200`,
    /// without asking the database. `/health` stays liveness: it does not turn `503` during a drain.
    func addHealthRoute(to router: Router<KeygateRequestContext>) {
        router.get("api/v1/health") { _, context in try await health(context) }
        router.get("health") { _, context in try await health(context) }
        router.get("health/ready") { _, _ in
            // Not the database: it is shared, and an instance out of rotation because the database is slow would take
            // every instance out at once; clients are better served by this instance's own 503 with Retry-After.
            guard !readiness.isDraining else {
                return try jsonResponse(["status": "draining", "database": "not checked"], status: .serviceUnavailable)
            }
            return try jsonResponse(["status": "ok", "database": "not checked"])
        }
    }

    private func health(_ context: KeygateRequestContext) async throws -> Response {
        do {
            try await keygate.checkDatabase()
            let cache = keygate.sessionCache.map { $0.isLive ? "live" : "suspended" } ?? "off"
            return try jsonResponse(["status": "ok", "database": "ok", "sessionCache": cache])
        } catch {
            context.logger.error("health check failed", metadata: ["error": "\(String(reflecting: error))"])
            return try jsonResponse(["status": "unavailable", "database": "unreachable"], status: .serviceUnavailable)
        }
    }
}

/// Whether this server is stopping: set at the first SIGTERM or SIGINT, before it stops accepting connections, so that
/// `GET /health/ready` turns `503` while it still serves (``ServerSettings/drain``).
public final class Readiness: Sendable {
    private let draining = Atomic<Bool>(false)

    public init() {}

    /// From now on `/health/ready` answers `503`.
    public func beginDraining() { draining.store(true, ordering: .releasing) }
    public var isDraining: Bool { draining.load(ordering: .acquiring) }
}

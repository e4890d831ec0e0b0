import Hummingbird
import KeygateCore
import Synchronization

/// `/apiKeys`: list, get, add, edit, regenerate, delete the organization's key.
struct APIKeyController {
    let keygate: Keygate
    let renderedLists = RenderedKeyLists()

    func addRoutes(to group: RouterGroup<APIContext>) {
        group.get("apiKeys", use: list)
        group.get("apiKeys/{id}", use: get)
        group.post("apiKeys", use: add)
        group.put("apiKeys/{id}", use: edit)
        group.post("apiKeys/{id}/regenerate", use: regenerate)
        // The Go SDK (v3.8.x) joins its service prefix twice: `/apiKeys/{id}/ztw/api/v1/regenerate`. Every unchanged
        // client carries that path, so it is the regenerate call too.
        group.post("apiKeys/{id}/ztw/api/v1/regenerate", use: regenerate)
        group.delete("apiKeys/{id}", use: delete)
    }

    /// A bare JSON array (the Python SDK sees a wrapped list as empty). `includePartnerKey(s)` is accepted and,
    /// with no partner keys in Keygate, changes nothing.
    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        for name in ["includePartnerKey", "includePartnerKeys"] { _ = try request.booleanQuery(name) }
        let principal = context.principal
        let keys = try await keygate.keys.listKeys(principal).map(APIKeyDTO.init)
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: renderedLists.json(orgID: principal.orgID, keys: keys)))
    }

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        try jsonResponse(APIKeyDTO(try await keygate.keys.key(context.principal, id: try request.pathID(context, "API key"))))
    }

    /// Add: `{}` or no body for a random key, `{"keyValue": "..."}` for the caller's string, or the whole key object
    /// (the Go SDK's create; its `id` is the server's to choose and is ignored).
    @Sendable func add(_ request: Request, context: APIContext) async throws -> Response {
        let principal = context.principal
        let input = try await JSONBody.decode(KeyObjectInput.self, request, context: context)
        return try jsonResponse(APIKeyDTO(try await keygate.keys.addKey(principal, value: input.keyValue)))
    }

    /// Edit: `{"keyValue": "..."}` or the whole key object (its `id`, if any, must be the path's).
    @Sendable func edit(_ request: Request, context: APIContext) async throws -> Response {
        let principal = context.principal
        let id = try request.pathID(context, "API key")
        let input = try await JSONBody.decode(KeyObjectInput.self, request, context: context)
        if let bodyID = input.id, bodyID != id { throw KeygateError.invalidInput("id in the body differs from the path") }
        guard let value = input.keyValue else { throw KeygateError.invalidInput("keyValue is required") }
        let (key, _) = try await keygate.keys.editKey(principal, id: id, newValue: value)
        return try jsonResponse(APIKeyDTO(key))
    }

    @Sendable func regenerate(_ request: Request, context: APIContext) async throws -> Response {
        let principal = context.principal
        let id = try request.pathID(context, "API key")
        _ = try await JSONBody.decode(NoInput.self, request, context: context)
        let (key, _) = try await keygate.keys.regenerateKey(principal, id: id)
        return try jsonResponse(APIKeyDTO(key))
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        _ = try await keygate.keys.deleteKey(context.principal, id: try request.pathID(context, "API key"))
        return noContent()
    }
}

/// The JSON of `GET /apiKeys` as last written for each organization, answered again while the keys it shows are the
/// same: that list is the whole answer of the hot path, and it changes only when the key does. The keys are compared
/// field by field on every hit (the same fields give the same bytes), so a change is never answered stale; the cache
/// only saves writing the bytes. Bounded like the session cache (an arbitrary entry makes room); it holds what
/// ``KeyCipher``'s cache of opened keys already holds in memory, the key values, and nothing more.
final class RenderedKeyLists: Sendable {
    private let entries = Mutex<[Int64: (keys: [APIKeyDTO], json: ByteBuffer)]>([:])
    /// Organizations remembered at most.
    let limit: Int

    init(limit: Int = SessionCache.defaultMaxEntries) { self.limit = max(1, limit) }

    /// How many organizations' lists are remembered now.
    var count: Int { entries.withLock { $0.count } }

    /// The JSON of `keys`, organization `orgID`'s list: the remembered bytes when they were written for equal keys.
    func json(orgID: Int64, keys: [APIKeyDTO]) -> ByteBuffer {
        if let hit = entries.withLock({ $0[orgID] }), hit.keys == keys { return hit.json }
        let json = APIKeyDTO.listJSON(keys)
        entries.withLock { entries in
            if entries.count >= limit, entries[orgID] == nil, let victim = entries.keys.first { entries[victim] = nil }
            entries[orgID] = (keys, json)
        }
        return json
    }
}

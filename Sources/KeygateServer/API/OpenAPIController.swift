import Hummingbird

/// `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of the API, served byte for byte as it is in the
/// repository (`Sources/KeygateServer/API/openapi.json`, compiled in with SwiftPM's `embedInCode`).
///
/// Hand-written, not generated, and kept true by tests: one compares it with the routes the router serves, and
/// schemathesis fuzzes a running server against it (see `docs/decisions.md`).
enum OpenAPIDocument {
    /// The document's bytes.
    static let bytes: [UInt8] = PackageResources.openapi_json

    /// Adds the route; no session needed (the document holds nothing secret).
    static func addRoute(to router: Router<KeygateRequestContext>) {
        router.get("api/v1/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}

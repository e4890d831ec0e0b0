import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateCore
import KeygateStorage
import Testing

/// The portal's forms through the router, for every suite that signs in (the portal's and the access matrix's).
extension TestClientProtocol {
    /// Posts a URL-encoded form, with the portal cookie when given.
    func form(
        _ method: HTTPRequest.Method, _ uri: String, _ fields: [String: String], cookie: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        var headers = extra
        if let cookie { headers[.cookie] = "kg_portal=\(cookie)" }
        return try await send(method, uri, raw: body, contentType: "application/x-www-form-urlencoded", headers: headers)
    }
}

import Foundation
import HTTPTypes
import HummingbirdTesting
import KeygateCore
import KeygateServer
import KeygateStorage
import Logging
import NIOCore
import Testing

@Suite("API key endpoints")
struct APIKeyTests {
    @Test("list is a bare array with the legacy fields; the partner flag is accepted in both spellings")
    func list() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness)
            for uri in ["/api/v1/apiKeys", "/api/v1/apiKeys?includePartnerKeys=True", "/api/v1/apiKeys?includePartnerKey=false"] {
                let r = try await client.send(.get, uri, session: session)
                #expect(r.status == .ok)
                let key = try #require(r.array.first)
                #expect(r.array.count == 1)
                #expect(key["keyValue"] as? String == (try await harness.currentKey()))
                #expect(key["enabled"] as? Bool == true)
                #expect(key["permissions"] as? [Any] != nil && key["partnerUrl"] as? String == "")
                #expect((key["lastModifiedBy"] as? [String: Any])?["name"] as? String == "provider")
                let modified = try #require(key["lastModifiedTime"] as? Int)
                #expect(abs(Double(modified) - harness.clock.now.timeIntervalSince1970) < 5)
            }
            #expect(try await client.send(.get, "/api/v1/apiKeys?includePartnerKeys=maybe", session: session).status == .badRequest)
        }
    }

    @Test("get by id: 200 for the organization's key, 404 for any other id")
    func getByID() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness)
            let id = harness.org.key.id
            #expect(try await client.send(.get, "/api/v1/apiKeys/\(id)", session: session).object["id"] as? Int == Int(id))
            for other in ["\(id + 1)", "0", "-1", "abc", "99999999999999999999"] {
                let r = try await client.send(.get, "/api/v1/apiKeys/\(other)", session: session)
                #expect(r.status == .notFound && r.code == "RESOURCE_NOT_FOUND")
            }
        }
    }

    @Test("edit: bad values are refused and change nothing; a valid one ends other sessions, keeps the caller's, and the old key stops working")
    func edit() async throws {
        try await withServer { harness, client in
            let oldKey = try await harness.currentKey()!
            let caller = try await client.login(harness)
            let bystander = try await client.login(harness)
            let id = harness.org.key.id
            for bad: [String: Any] in [
                ["keyValue": "short"], ["keyValue": oldKey], ["keyValue": "AbC123dEf45!"], ["keyValue": 123456789012], [:],
                ["keyValue": "AbC123dEf456", "enabled": "no"], ["keyValue": "AbC123dEf456", "permissions": "all"],
                ["keyValue": "AbC123dEf456", "bogus": 1], ["keyValue": "AbC123dEf456", "id": id + 1],
            ] {
                let r = try await client.send(.put, "/api/v1/apiKeys/\(id)", session: caller, json: bad)
                #expect(r.status == .badRequest, "\(bad)")
                #expect(r.code == "INVALID_INPUT_ARGUMENT")
            }
            #expect(try await harness.currentKey() == oldKey)
            #expect(try await client.send(.get, "/api/v1/auth", session: bystander).status == .ok)

            let r = try await client.send(.put, "/api/v1/apiKeys/\(id)", session: caller, json: ["keyValue": "Shared0Key12"])
            #expect(r.status == .ok && r.object["keyValue"] as? String == "Shared0Key12")
            #expect((r.object["lastModifiedBy"] as? [String: Any])?["name"] as? String == "root")
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: caller).status == .ok)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: bystander).status == .unauthorized)
            #expect(try await client.send(.post, "/api/v1/auth", json: harness.loginBody(key: oldKey)).code == "INVALID_USERNAME_OR_PASSWORD")
            _ = try await client.login(harness, key: "Shared0Key12")
        }
    }

    @Test("regenerate: a new random key (no body, {} or empty body), old sessions end, the caller moves")
    func regenerate() async throws {
        try await withServer { harness, client in
            let caller = try await client.login(harness)
            let bystander = try await client.login(harness)
            var seen: Set<String> = [try await harness.currentKey()!]
            let id = harness.org.key.id
            for body: Any? in [nil, [String: Any]()] {
                let r = try await client.send(.post, "/api/v1/apiKeys/\(id)/regenerate", session: caller, json: body)
                #expect(r.status == .ok)
                let value = try #require(r.object["keyValue"] as? String)
                #expect(try APIKeyValue(validating: value).rawValue == value)
                #expect(!seen.contains(value))
                seen.insert(value)
            }
            #expect(try await client.send(.get, "/api/v1/auth", session: bystander).status == .unauthorized)
            #expect(try await client.send(.get, "/api/v1/auth", session: caller).status == .ok)
            #expect(try await client.send(.post, "/api/v1/apiKeys/\(id)/regenerate", session: caller, json: ["x": 1]).status == .badRequest)
            #expect(try await client.send(.post, "/api/v1/apiKeys/\(id + 5)/regenerate", session: caller).status == .notFound)
        }
    }

    @Test("add is refused while a key exists (409); delete ends every session and no login is possible afterwards")
    func addAndDelete() async throws {
        try await withServer { harness, client in
            let key = try await harness.currentKey()!
            let caller = try await client.login(harness)
            let other = try await client.login(harness)
            let dup = try await client.send(.post, "/api/v1/apiKeys", session: caller, json: ["keyValue": "AbC123dEf456"])
            #expect(dup.status == .conflict && dup.code == "DUPLICATE_ITEM")
            let deleted = try await client.send(.delete, "/api/v1/apiKeys/\(harness.org.key.id)", session: caller)
            #expect(deleted.status == .noContent && deleted.body.readableBytes == 0)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: caller).status == .unauthorized)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: other).status == .unauthorized)
            #expect(try await client.send(.post, "/api/v1/auth", json: harness.loginBody(key: key)).status == .badRequest)
            // The provider (or the portal) adds one; it works at once.
            let added = try await harness.keygate.keys.addKey(
                harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID, value: "Fresh0Key123")
            let session = try await client.login(harness, key: "Fresh0Key123")
            let list = try await client.send(.get, "/api/v1/apiKeys", session: session)
            #expect(list.array.first?["id"] as? Int == Int(added.id))
        }
    }

    @Test("READ_ONLY admins list and get but every change is 403 and changes nothing")
    func readOnly() async throws {
        try await withServer { harness, client in
            let key = try await harness.currentKey()!
            let viewer = try await client.login(harness, user: try await harness.addAdmin("viewer", access: .readOnly))
            let id = harness.org.key.id
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: viewer).status == .ok)
            #expect(try await client.send(.get, "/api/v1/apiKeys/\(id)", session: viewer).status == .ok)
            for (method, uri, body) in [
                (HTTPRequest.Method.put, "/api/v1/apiKeys/\(id)", ["keyValue": "Viewer0Key12"] as [String: Any]?),
                (.post, "/api/v1/apiKeys/\(id)/regenerate", nil), (.delete, "/api/v1/apiKeys/\(id)", nil), (.post, "/api/v1/apiKeys", nil),
                (.post, "/api/v1/adminRoles", ["name": "x"]), (.post, "/api/v1/adminUsers", ["loginName": "x"]),
            ] {
                let r = try await client.send(method, uri, session: viewer, json: body)
                #expect(r.status == .forbidden && r.code == "NOT_AUTHORIZED", "\(method) \(uri)")
            }
            #expect(try await harness.currentKey() == key)
        }
    }

    @Test("a role taken down to NONE is refused on the next request")
    func roleChangeIsImmediate() async throws {
        try await withServer { harness, client in
            let root = try await client.login(harness)
            let ann = try await client.login(harness, user: try await harness.addAdmin("ann", access: .readWrite))
            let roles = try await client.send(.get, "/api/v1/adminRoles", session: root).array
            let annRole = try #require(roles.first { $0["name"] as? String == "role-ann" })
            let id = try #require(annRole["id"] as? Int)
            let r = try await client.send(.put, "/api/v1/adminRoles/\(id)", session: root, json: ["featurePermissions": ["apikeyManagement": "NONE"]])
            #expect(r.status == .ok)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: ann).status == .forbidden)
        }
    }

    @Test("rotation policy keep: other sessions survive a rotation; grace: until the grace ends")
    func rotationPolicies() async throws {
        try await withServer { harness, client in
            try await harness.keygate.organizations.setRotationPolicy(
                harness.keygate.commandLineProvider(operator: "t"), orgID: harness.orgID, policy: .keepOldSessions)
            let caller = try await client.login(harness)
            let other = try await client.login(harness)
            #expect(try await client.send(.post, "/api/v1/apiKeys/\(harness.org.key.id)/regenerate", session: caller).status == .ok)
            #expect(try await client.send(.get, "/api/v1/auth", session: other).status == .ok)

            try await harness.keygate.organizations.setRotationPolicy(
                harness.keygate.commandLineProvider(operator: "t"), orgID: harness.orgID, policy: .grace(seconds: 120))
            #expect(try await client.send(.post, "/api/v1/apiKeys/\(harness.org.key.id)/regenerate", session: caller).status == .ok)
            harness.clock.advance(100)
            #expect(try await client.send(.get, "/api/v1/auth", session: other).status == .ok)
            harness.clock.advance(21)
            #expect(try await client.send(.get, "/api/v1/auth", session: other).status == .unauthorized)
            #expect(try await client.send(.get, "/api/v1/auth", session: caller).status == .ok)
        }
    }

    @Test("the provider disabling the key (e.g. from the CLI, another process) ends its sessions on the next request")
    func providerDisable() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness)
            // A second Keygate on the same database file, as the CLI would be.
            try await KeygateStorage.Storage.withDatabase(url: harness.path, logger: .init(label: "cli")) { _, cliStore in
                let cli = Keygate(
                    store: cliStore, cipher: harness.keygate.cipher, hasher: harness.keygate.environment.hasher,
                    decoys: harness.keygate.environment.decoys)
                _ = try await cli.keys.setKeyEnabled(cli.commandLineProvider(operator: "cli"), orgID: harness.orgID, enabled: false)
                #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .unauthorized)
                _ = try await cli.keys.setKeyEnabled(cli.commandLineProvider(operator: "cli"), orgID: harness.orgID, enabled: true)
                let again = try await client.login(harness)
                #expect(try await client.send(.get, "/api/v1/apiKeys", session: again).array.first?["enabled"] as? Bool == true)
            }
        }
    }

    @Test("per-organization rate limits by class: 429 with Retry-After; the zscaler preset")
    func rateLimits() async throws {
        try await withServer(limits: .zscaler) { harness, client in
            let session = try await client.login(harness)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .ok)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .ok)
            let limited = try await client.send(.get, "/api/v1/apiKeys", session: session)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] == "1")
            #expect(limited.object["message"] as? String == "Rate Limit (2/SECOND) exceeded")
            #expect(limited.object["Retry-After"] as? String == "1 seconds")
            // Another class has its own budget; a new second resets the short window.
            #expect(try await client.send(.put, "/api/v1/ecAdminActivateStatus/activate", session: session).status == .ok)
            harness.clock.advance(1)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: session).status == .ok)
        }
    }

    @Test("keys, passwords and session tokens never appear in the database files")
    func encryptedAtRest() async throws {
        try await withServer { harness, client in
            let session = try await client.login(harness)
            _ = try await client.send(.put, "/api/v1/apiKeys/\(harness.org.key.id)", session: session, json: ["keyValue": "Secret0Key99"])
            var bytes = Data()
            for suffix in ["", "-wal"] {
                if let data = FileManager.default.contents(atPath: harness.path + suffix) { bytes.append(data) }
            }
            #expect(bytes.count > 10_000)
            for secret in ["Secret0Key99", harness.org.key.value.rawValue, Harness.password, session] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret.prefix(3))… found in the database")
            }
        }
    }
}

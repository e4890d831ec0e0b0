import Foundation
import HTTPTypes
import HummingbirdTesting
import KeygateCore
import KeygateServer
import KeygateStorage
import NIOCore
import Testing

@Suite("Roles, admins, password change, activation")
struct AdminTests {
    @Test("roles: list, get, create (SDK spellings, Zscaler fields ignored), duplicates, bad levels, unknown fields, non-editable, delete")
    func roles() async throws {
        try await withServer { harness, client in
            let s = try await client.login(harness)
            let list = try await client.send(.get, "/api/v1/adminRoles", session: s)
            let superAdmin = try #require(list.array.first)
            #expect(superAdmin["name"] as? String == "Super Admin" && superAdmin["isNonEditable"] as? Bool == true)
            #expect((superAdmin["featurePermissions"] as? [String: String])?["APIKEY_MANAGEMENT"] == "READ_WRITE")
            #expect(superAdmin["roleType"] as? String == "EDGE_CONNECTOR_ADMIN" && superAdmin["rank"] as? Int == 0)
            let superID = try #require(superAdmin["id"] as? Int)
            #expect(list.array.map { $0["name"] as? String } == ["Super Admin", "Read Only Admin"])
            let lite = try await client.send(.get, "/api/v1/adminRoles/lite", session: s)
            #expect(lite.status == .ok && lite.array.first?["id"] as? Int == superID)

            let created = try await client.send(
                .post, "/api/v1/adminRoles", session: s,
                json: [
                    "name": "Auditors", "roleType": "EDGE_CONNECTOR_ADMIN", "policyAccess": "READ_ONLY", "reportAccess": "NONE",
                    "featurePermissions": ["apikey_management": "read_only"],
                ])
            #expect(created.status == .ok)
            #expect((created.object["featurePermissions"] as? [String: String])?["APIKEY_MANAGEMENT"] == "READ_ONLY")
            let id = try #require(created.object["id"] as? Int)
            #expect(try await client.send(.get, "/api/v1/adminRoles/\(id)", session: s).object["name"] as? String == "Auditors")
            #expect(try await client.send(.get, "/api/v1/adminRoles/\(id + 100)", session: s).status == .notFound)

            #expect(try await client.send(.post, "/api/v1/adminRoles", session: s, json: ["name": "Auditors"]).status == .conflict)
            #expect(try await client.send(.post, "/api/v1/adminRoles", session: s, json: [:]).status == .badRequest)
            #expect(
                try await client.send(
                    .post, "/api/v1/adminRoles", session: s, json: ["name": "X", "featurePermissions": ["APIKEY_MANAGEMENT": "ALL"]]
                ).status == .badRequest)
            #expect(
                try await client.send(.post, "/api/v1/adminRoles", session: s, json: ["name": "X", "featurePermissions": "READ_ONLY"]).status
                    == .badRequest)
            #expect(try await client.send(.post, "/api/v1/adminRoles", session: s, json: ["name": "X", "bogus": 1]).code == "INVALID_INPUT_ARGUMENT")
            #expect(try await client.send(.post, "/api/v1/adminRoles", session: s, json: ["name": "X", "rank": 9]).status == .badRequest)

            let renamed = try await client.send(.put, "/api/v1/adminRoles/\(id)", session: s, json: ["name": "Viewers"])
            #expect(renamed.status == .ok && renamed.object["name"] as? String == "Viewers")
            #expect(try await client.send(.put, "/api/v1/adminRoles/\(superID)", session: s, json: ["name": "Mine"]).status == .forbidden)
            #expect(try await client.send(.delete, "/api/v1/adminRoles/\(superID)", session: s).status == .forbidden)
            #expect(try await client.send(.delete, "/api/v1/adminRoles/\(id)", session: s).status == .noContent)
            #expect(try await client.send(.get, "/api/v1/adminRoles", session: s).array.count == 2)
        }
    }

    @Test("a role held by an admin cannot be deleted (409)")
    func roleInUse() async throws {
        try await withServer { harness, client in
            let s = try await client.login(harness)
            _ = try await harness.addAdmin("ann", access: .readOnly)
            let role = try #require(try await client.send(.get, "/api/v1/adminRoles", session: s).array.first { $0["name"] as? String == "role-ann" })
            #expect(try await client.send(.delete, "/api/v1/adminRoles/\(role["id"] as! Int)", session: s).status == .conflict)
        }
    }

    @Test("admins: create with role as object, id or name; the password is write-only; duplicates, weak passwords, unknown roles")
    func admins() async throws {
        try await withServer { harness, client in
            let s = try await client.login(harness)
            let roleID = harness.org.admin.roleID
            for (i, role) in [["id": roleID] as Any, roleID as Any, "Super Admin" as Any].enumerated() {
                let r = try await client.send(
                    .post, "/api/v1/adminUsers", session: s,
                    json: [
                        "loginName": "user\(i)@acme", "userName": "User \(i)", "email": "u\(i)@acme.test", "role": role,
                        "password": "Str0ng!pass", "adminScopeType": "ORGANIZATION",
                    ])
                #expect(r.status == .ok, "\(r.text)")
                #expect((r.object["role"] as? [String: Any])?["name"] as? String == "Super Admin")
                #expect(r.object["password"] == nil && !r.text.contains("Str0ng"))
            }
            let list = try await client.send(.get, "/api/v1/adminUsers", session: s)
            #expect(list.array.map { $0["loginName"] as? String } == ["root", "user0@acme", "user1@acme", "user2@acme"])
            #expect(!list.text.contains("$2"))  // no bcrypt hash leaks
            let base: [String: Any] = ["loginName": "x@acme", "role": ["id": roleID], "password": "Str0ng!pass"]
            var dup = base
            dup["loginName"] = "USER0@acme"
            #expect(try await client.send(.post, "/api/v1/adminUsers", session: s, json: dup).status == .conflict)
            var weak = base
            weak["password"] = "weak"
            #expect(try await client.send(.post, "/api/v1/adminUsers", session: s, json: weak).status == .badRequest)
            var noRole = base
            noRole["role"] = ["id": 9999]
            #expect(try await client.send(.post, "/api/v1/adminUsers", session: s, json: noRole).status == .badRequest)
            var unknownName = base
            unknownName["role"] = "Nobody"
            let r = try await client.send(.post, "/api/v1/adminUsers", session: s, json: unknownName)
            #expect(r.status == .badRequest && (r.object["message"] as? String)?.contains("Super Admin") == true)
            var badLogin = base
            badLogin["loginName"] = "has space"
            #expect(try await client.send(.post, "/api/v1/adminUsers", session: s, json: badLogin).status == .badRequest)
            #expect(try await client.send(.get, "/api/v1/adminUsers/9999", session: s).status == .notFound)
        }
    }

    @Test("disabling an admin ends their sessions at once; nobody deletes or disables themself")
    func disableAndDelete() async throws {
        try await withServer { harness, client in
            let root = try await client.login(harness)
            let ann = try await client.login(harness, user: try await harness.addAdmin("ann", access: .readWrite))
            let users = try await client.send(.get, "/api/v1/adminUsers", session: root).array
            let annID = try #require(users.first { $0["loginName"] as? String == "ann" }?["id"] as? Int)
            let rootID = Int(harness.org.admin.id)
            let r = try await client.send(.put, "/api/v1/adminUsers/\(annID)", session: root, json: ["disabled": true])
            #expect(r.status == .ok && r.object["disabled"] as? Bool == true)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: ann).status == .unauthorized)
            #expect(try await client.send(.put, "/api/v1/adminUsers/\(rootID)", session: root, json: ["disabled": true]).status == .conflict)
            #expect(try await client.send(.delete, "/api/v1/adminUsers/\(rootID)", session: root).status == .conflict)
            #expect(try await client.send(.put, "/api/v1/adminUsers/\(annID)", session: root, json: ["disabled": "yes"]).status == .badRequest)
            #expect(try await client.send(.delete, "/api/v1/adminUsers/\(annID)", session: root).status == .noContent)
            #expect(try await client.send(.get, "/api/v1/adminUsers/\(annID)", session: root).status == .notFound)
        }
    }

    @Test("password change: own account only, old password checked, policy enforced; other sessions end, the caller's stays")
    func passwordChange() async throws {
        try await withServer { harness, client in
            let s = try await client.login(harness)
            let other = try await client.login(harness)
            func change(_ body: [String: Any]) async throws -> TestResponse {
                try await client.send(.post, "/api/v1/passwordChange", session: s, json: body)
            }
            #expect(try await change(["userName": "root", "oldPassword": "Wrong!pass1", "newPassword": "N3w!password"]).status == .badRequest)
            #expect(try await change(["userName": "root", "oldPassword": Harness.password, "newPassword": "weak"]).status == .badRequest)
            #expect(try await change(["userName": "someone", "oldPassword": Harness.password, "newPassword": "N3w!password"]).status == .forbidden)
            #expect(try await change(["userName": "root"]).status == .badRequest)
            let ok = try await change(["userName": "root", "oldPassword": Harness.password, "newPassword": "N3w!password"])
            #expect(ok.status == .noContent && ok.body.readableBytes == 0)
            #expect(try await client.send(.get, "/api/v1/auth", session: s).status == .ok)
            #expect(try await client.send(.get, "/api/v1/auth", session: other).status == .unauthorized)
            let key = try await harness.currentKey()!
            #expect(try await client.send(.post, "/api/v1/auth", json: harness.loginBody(key: key)).status == .badRequest)
            #expect(try await client.send(.post, "/api/v1/auth", json: harness.loginBody(password: "N3w!password", key: key)).status == .ok)
        }
    }

    @Test("a new password set through PUT /adminUsers ends that admin's sessions; one's own password only through passwordChange")
    func passwordViaAdminUsers() async throws {
        try await withServer { harness, client in
            let root = try await client.login(harness)
            let rootElsewhere = try await client.login(harness)
            let ann = try await client.login(harness, user: try await harness.addAdmin("ann", access: .readOnly))
            let annID = try #require(
                try await client.send(.get, "/api/v1/adminUsers", session: root).array.first { $0["loginName"] as? String == "ann" }?["id"] as? Int)
            #expect(try await client.send(.put, "/api/v1/adminUsers/\(annID)", session: root, json: ["password": "Fresh!pass99"]).status == .ok)
            #expect(try await client.send(.get, "/api/v1/auth", session: ann).status == .unauthorized)
            // A session alone must not be enough to take the account over: no old password, no change.
            let own = try await client.send(.put, "/api/v1/adminUsers/\(harness.org.admin.id)", session: root, json: ["password": "Fresh!pass99"])
            #expect(own.status == .forbidden && own.code == "NOT_AUTHORIZED")
            #expect(try await client.send(.get, "/api/v1/auth", session: root).status == .ok)
            #expect(try await client.send(.get, "/api/v1/auth", session: rootElsewhere).status == .ok)
            #expect(try await client.send(.post, "/api/v1/auth", json: harness.loginBody(key: try await harness.currentKey()!)).status == .ok)
        }
    }

    @Test("activation endpoints report nothing pending and need a session")
    func activation() async throws {
        try await withServer { harness, client in
            let s = try await client.login(harness)
            for (method, uri) in [(HTTPRequest.Method.get, "/api/v1/ecAdminActivateStatus"), (.put, "/api/v1/ecAdminActivateStatus/activate")] {
                let r = try await client.send(method, uri, session: s)
                #expect(
                    r.status == .ok && r.object["orgEditStatus"] as? String == "EDITS_CLEARED"
                        && r.object["adminActivateStatus"] as? String == "ADM_ACTV_DONE")
                #expect(try await client.send(method, uri).status == .unauthorized)
            }
            for (method, uri) in [(HTTPRequest.Method.get, "/api/v1/status"), (.post, "/api/v1/status/activate")] {
                #expect(try await client.send(method, uri, session: s).object["status"] as? String == "ACTIVE")
            }
        }
    }

    @Test("every write endpoint turns hostile bodies into a 4xx JSON error and changes nothing")
    func hostileBodies() async throws {
        try await withServer { harness, client in
            let s = try await client.login(harness)
            let key = try await harness.currentKey()!
            let id = harness.org.key.id
            let bodies = [
                "{", "null", "[]", "\"x\"", "123", "{\"keyValue\":null,\"keyValue\":1}", "{\"a\":{\"b\":{\"c\":[1,2,{\"d\":\"\u{0}\"}]}}}",
                "{\"keyValue\":\"\u{1F4A5}\u{1F4A5}\u{1F4A5}\u{1F4A5}\u{1F4A5}\u{1F4A5}\"}", String(repeating: "[", count: 5000),
                "{\"name\":" + String(repeating: "9", count: 400) + "}",
            ]
            let endpoints: [(HTTPRequest.Method, String)] = [
                (.put, "/api/v1/apiKeys/\(id)"), (.post, "/api/v1/apiKeys"), (.post, "/api/v1/apiKeys/\(id)/regenerate"),
                (.post, "/api/v1/adminRoles"), (.post, "/api/v1/adminUsers"), (.put, "/api/v1/adminUsers/1"), (.post, "/api/v1/passwordChange"),
            ]
            for (method, uri) in endpoints {
                for body in bodies {
                    let r = try await client.send(method, uri, session: s, raw: body)
                    #expect((400..<500).contains(r.status.code), "\(method) \(uri) \(body.prefix(20)): \(r.status)")
                    #expect(r.code != nil)
                }
            }
            #expect(try await harness.currentKey() == key)
            #expect(try await client.send(.get, "/api/v1/adminUsers", session: s).array.count == 1)
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateCore
import KeygateStorage
import Testing

@Suite("Provider console")
struct ProviderConsoleTests {
    @Test("the organization list pages by 100 and searches by name")
    func paging() async throws {
        try await withServer { harness, client in
            for i in 0..<120 {
                _ = try await harness.keygate.organizations.provisionOrganization(
                    harness.keygate.commandLineProvider(operator: "t"), name: String(format: "Org %03d", i), adminLogin: "a\(i)",
                    password: Harness.password)
            }
            _ = try await harness.keygate.operators.createOperator(
                harness.keygate.commandLineProvider(operator: "test"), loginName: "ops", password: "Ops!passw0rd")
            let ok = try await client.form(.post, "/provider/signin", ["loginName": "ops", "password": "Ops!passw0rd"])
            let headers: HTTPFields = [.cookie: String(try #require(ok.headers[.setCookie]).split(separator: ";")[0])]
            let first = try await client.send(.get, "/provider", headers: headers)
            #expect(first.text.matches(of: /<tr data-org=/).count == 100)
            #expect(first.text.contains("121 organization(s) · page 1 of 2") && first.text.contains(#"id="next-page""#))
            let second = try await client.send(.get, "/provider?page=2", headers: headers)
            #expect(second.text.matches(of: /<tr data-org=/).count == 21 && !second.text.contains(#"id="next-page""#))
            let found = try await client.send(.get, "/provider?q=org%2011", headers: headers)
            let names = found.text.matches(of: /<tr data-org="([^"]+)"/).map { String($0.1) }
            #expect(names == ["Org 110", "Org 111", "Org 112", "Org 113", "Org 114", "Org 115", "Org 116", "Org 117", "Org 118", "Org 119"])
            #expect(try await client.send(.get, "/provider?page=99", headers: headers).text.contains("page 2 of 2"))
        }
    }

    @Test("operators sign in; list, create an organization (password shown once), disable and enable its key, read its audit trail")
    func console() async throws {
        try await withServer { harness, client in
            _ = try await harness.keygate.operators.createOperator(
                harness.keygate.commandLineProvider(operator: "test"), loginName: "ops", password: "Ops!passw0rd")
            #expect(try await client.send(.get, "/provider").headers[.location] == "/provider/signin")
            let wrong = try await client.form(.post, "/provider/signin", ["loginName": "ops", "password": "nope-nope-1"])
            #expect(wrong.status == .unauthorized && wrong.text.contains("wrong"))
            // An organization admin is not an operator.
            #expect(try await client.form(.post, "/provider/signin", ["loginName": "root", "password": Harness.password]).status == .unauthorized)
            let ok = try await client.form(.post, "/provider/signin", ["loginName": "ops", "password": "Ops!passw0rd"])
            let setCookie = try #require(ok.headers[.setCookie])
            #expect(setCookie.contains("Path=/provider") && setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
            let cookie = String(setCookie.split(separator: ";")[0])
            let headers: HTTPFields = [.cookie: cookie]
            let list = try await client.send(.get, "/provider", headers: headers)
            #expect(list.status == .ok && list.text.contains(#"data-org="Acme""#))
            let token = try PortalTests.csrf(list)
            // The portal's cookie does not open the console, nor the console's the portal.
            #expect(
                try await client.send(.get, "/provider", headers: [.cookie: "kg_portal=\(cookie.dropFirst("kg_provider=".count))"]).status
                    == .seeOther)

            let noToken = try await client.send(
                .post, "/provider/orgs", raw: "name=Evil&adminLogin=x", contentType: "application/x-www-form-urlencoded", headers: headers)
            #expect(noToken.status == .forbidden)
            #expect(try await harness.store.organization(named: "Evil") == nil)
            let created = try await client.send(
                .post, "/provider/orgs", raw: "name=Delta&adminLogin=boss&csrf=\(token)", contentType: "application/x-www-form-urlencoded",
                headers: headers)
            #expect(created.status == .created && created.headers[.cacheControl] == "no-store")
            let key = try #require(created.text.firstMatch(of: /id="created-key">([A-Za-z0-9]{12})</).map { String($0.1) })
            let delta = try #require(try await harness.store.organization(named: "Delta"))
            #expect(
                try await harness.keygate.keys.currentKey(harness.keygate.commandLineProvider(operator: "test"), orgID: delta.id)?.value.rawValue
                    == key)
            let duplicate = try await client.send(
                .post, "/provider/orgs", raw: "name=Delta&adminLogin=boss&csrf=\(token)", contentType: "application/x-www-form-urlencoded",
                headers: headers)
            #expect(duplicate.status == .conflict && duplicate.text.contains(#"id="create-error""#))

            let api = try await client.login(harness)
            let disabled = try await client.send(
                .post, "/provider/orgs/\(harness.orgID)/key", raw: "action=disable&csrf=\(token)", contentType: "application/x-www-form-urlencoded",
                headers: headers)
            #expect(disabled.status == .seeOther)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: api).status == .unauthorized)
            let detail = try await client.send(.get, "/provider/orgs/\(harness.orgID)", headers: headers)
            #expect(detail.text.contains("<strong>Disabled</strong>") && detail.text.contains("<code>key.disabled</code>"))
            #expect(detail.text.contains(">ops<"), "the operator is the actor in the audit trail")
            _ = try await client.send(
                .post, "/provider/orgs/\(harness.orgID)/key", raw: "action=enable&csrf=\(token)", contentType: "application/x-www-form-urlencoded",
                headers: headers)
            #expect(
                try await harness.keygate.keys.currentKey(harness.keygate.commandLineProvider(operator: "test"), orgID: harness.orgID)?.enabled
                    == true)

            let out = try await client.send(
                .post, "/provider/signout", raw: "csrf=\(token)", contentType: "application/x-www-form-urlencoded", headers: headers)
            #expect(out.status == .seeOther)
            #expect(try await client.send(.get, "/provider", headers: headers).status == .seeOther)

            // A disabled operator's open session ends at once, and they cannot sign in again until enabled.
            let again = try await client.form(.post, "/provider/signin", ["loginName": "ops", "password": "Ops!passw0rd"])
            let live: HTTPFields = [.cookie: String(try #require(again.headers[.setCookie]).split(separator: ";")[0])]
            #expect(try await client.send(.get, "/provider", headers: live).status == .ok)
            try await harness.keygate.operators.setOperatorDisabled(
                harness.keygate.commandLineProvider(operator: "test"), loginName: "ops", disabled: true)
            #expect(try await client.send(.get, "/provider", headers: live).headers[.location] == "/provider/signin")
            let refused = try await client.form(.post, "/provider/signin", ["loginName": "ops", "password": "Ops!passw0rd"])
            #expect(refused.status == .forbidden && refused.headers[.setCookie] == nil)
            await #expect(throws: KeygateError.self) {
                try await harness.keygate.operators.setOperatorDisabled(
                    harness.keygate.commandLineProvider(operator: "test"), loginName: "ghost", disabled: true)
            }
        }
    }
}

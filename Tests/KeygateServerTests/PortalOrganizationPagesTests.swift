import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateCore
import KeygateStorage
import Testing

@Suite("Admin portal: audit, admins, roles")
struct PortalOrganizationPagesTests {
    func page(_ client: any TestClientProtocol, _ path: String, cookie: String) async throws -> TestResponse {
        try await client.send(.get, path, headers: [.cookie: "kg_portal=\(cookie)"])
    }

    @Test("audit: newest first, filtered by type, exported as CSV with formula cells defused")
    func audit() async throws {
        try await withServer { harness, client in
            let cookie = try await PortalTests.signIn(client)
            let keys = try await page(client, "/portal/orgs/\(harness.orgID)/keys", cookie: cookie)
            let edited = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/keys/edit",
                ["keyValue": "Audit0Key123", "id": "\(harness.org.key.id)", "csrf": try PortalTests.csrf(keys)], cookie: cookie)
            #expect(edited.status == .seeOther)
            let all = try await page(client, "/portal/orgs/\(harness.orgID)/audit", cookie: cookie)
            let actions = all.text.matches(of: /<code>([a-z_.]+)<\/code>/).map { String($0.1) }
            #expect(actions.first == "key.edited" && actions.contains("portal.signed_in") && actions.last == "org.provisioned")
            let onlyKeys = try await page(client, "/portal/orgs/\(harness.orgID)/audit?type=key", cookie: cookie)
            #expect(onlyKeys.text.matches(of: /<code>([a-z_.]+)<\/code>/).allSatisfy { $0.1.hasPrefix("key.") })
            #expect(try await page(client, "/portal/orgs/\(harness.orgID)/audit?type=bogus", cookie: cookie).status == .badRequest)

            // An admin whose display name a spreadsheet would run as a formula.
            _ = try await harness.keygate.admins.createAdmin(
                harness.keygate.commandLineProvider(operator: "=HYPERLINK(\"x\")"), orgID: harness.orgID,
                draft: AdminDraft(loginName: "eve", userName: "=HYPERLINK(\"x\")", roleID: harness.org.admin.roleID, password: Harness.password))
            let csv = try await page(client, "/portal/orgs/\(harness.orgID)/audit.csv", cookie: cookie)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(csv.headers[.contentDisposition]?.contains("attachment") == true)
            let lines = csv.text.split(separator: "\r\n")
            #expect(lines.first == "time,actor,action,detail")
            #expect(lines.dropFirst().first?.contains(#","'=HYPERLINK(""x"")",admin.created,"#) == true, "\(lines.dropFirst().first ?? "")")
            #expect(!csv.text.contains("Audit0Key123"), "no secret in the audit trail")
        }
    }

    @Test("admins: add (validated), change role, disable another (their sessions end); never oneself")
    func admins() async throws {
        try await withServer { harness, client in
            let cookie = try await PortalTests.signIn(client)
            let list = try await page(client, "/portal/orgs/\(harness.orgID)/admins", cookie: cookie)
            let token = try PortalTests.csrf(list)
            #expect(list.text.contains("(you)"))
            let weak = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/admins",
                ["loginName": "dan", "password": "weak", "roleID": "\(harness.org.admin.roleID)", "csrf": token], cookie: cookie)
            #expect(weak.status == .badRequest && weak.text.contains(#"id="admin-error""#) && weak.text.contains(#"value="dan""#))
            let made = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/admins",
                ["loginName": "dan", "userName": "Dan", "password": Harness.password, "roleID": "\(harness.org.admin.roleID)", "csrf": token],
                cookie: cookie)
            #expect(made.status == .seeOther)
            let dan = try #require(try await harness.store.admins(orgID: harness.orgID).first { $0.loginName == "dan" })
            let danSession = try await client.login(harness, user: "dan")
            let disabled = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/admins/\(dan.id)", ["action": "disable", "csrf": token], cookie: cookie)
            #expect(disabled.status == .seeOther)
            #expect(try await client.send(.get, "/api/v1/apiKeys", session: danSession).status == .unauthorized)
            let me = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/admins/\(harness.org.admin.id)", ["action": "disable", "csrf": token], cookie: cookie)
            #expect(me.status == .conflict && me.text.contains("cannot disable yourself"))
            let renamed = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/admins/\(dan.id)",
                ["action": "edit", "userName": "Daniel", "email": "d@example.com", "csrf": token],
                cookie: cookie)
            #expect(renamed.status == .seeOther)
            let edited = try await harness.store.admin(orgID: harness.orgID, id: dan.id)
            #expect(edited?.userName == "Daniel" && edited?.email == "d@example.com")
            let blank = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/admins/\(dan.id)", ["action": "edit", "userName": " ", "csrf": token], cookie: cookie)
            #expect(blank.status == .badRequest && blank.text.contains(#"id="page-error""#))
            #expect(try await harness.store.admin(orgID: harness.orgID, id: dan.id)?.userName == "Daniel")
            #expect(try await harness.store.admin(orgID: harness.orgID, id: harness.org.admin.id)?.disabled == false)
        }
    }

    @Test("roles: the API key management level is edited per role; Super Admin is fixed; READ_ONLY cannot edit")
    func roles() async throws {
        try await withServer { harness, client in
            _ = try await harness.addAdmin("vera", access: .readOnly)
            let cookie = try await PortalTests.signIn(client)
            let list = try await page(client, "/portal/orgs/\(harness.orgID)/roles", cookie: cookie)
            #expect(list.text.contains("(cannot be edited)"))
            let created = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/roles", ["name": "Auditors", "level": "READ_ONLY", "csrf": try PortalTests.csrf(list)],
                cookie: cookie)
            #expect(created.status == .seeOther)
            #expect(try await harness.store.roles(orgID: harness.orgID).first { $0.name == "Auditors" }?.apiKeyAccess == .readOnly)
            let badLevel = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/roles", ["name": "Odd", "level": "ALL", "csrf": try PortalTests.csrf(list)], cookie: cookie)
            #expect(badLevel.status == .badRequest && badLevel.headers[.contentType]?.hasPrefix("text/html") == true)
            let role = try #require(try await harness.store.roles(orgID: harness.orgID).first { $0.name == "role-vera" })
            let saved = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/roles/\(role.id)", ["level": "READ_WRITE", "csrf": try PortalTests.csrf(list)], cookie: cookie)
            #expect(saved.status == .seeOther)
            #expect(try await harness.store.role(orgID: harness.orgID, id: role.id)?.apiKeyAccess == .readWrite)
            let fixed = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/roles/\(harness.org.admin.roleID)", ["level": "NONE", "csrf": try PortalTests.csrf(list)],
                cookie: cookie)
            #expect(fixed.status == .forbidden)

            let other = try await PortalTests.signIn(client, login: "vera")
            _ = try await harness.store.updateRole(
                Role(id: role.id, orgID: harness.orgID, name: role.name, featurePermissions: [Role.apiKeyManagement: .readOnly]),
                audit: AuditEvent(orgID: harness.orgID, at: harness.clock.now, actor: .provider(name: "t"), action: .roleUpdated, detail: ""))
            let readOnly = try await page(client, "/portal/orgs/\(harness.orgID)/roles", cookie: other)
            #expect(readOnly.status == .ok && !readOnly.text.contains("<select id=\"level-"))
            let refused = try await client.form(
                .post, "/portal/orgs/\(harness.orgID)/roles/\(role.id)", ["level": "READ_WRITE", "csrf": try PortalTests.csrf(readOnly)],
                cookie: other)
            #expect(refused.status == .forbidden)
        }
    }
}

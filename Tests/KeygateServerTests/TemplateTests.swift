import Foundation
import Testing

@testable import KeygateServer

@Suite("Templates: every name a page's template uses is one its view model has")
struct TemplateTests {
    /// Each page template with the view model that renders it.
    static var pages: [(Template, any PageModel.Type)] {
        [
            (.signIn, SignInPage.self), (.keys, KeysPage.self), (.message, MessagePage.self), (.applied, AppliedPage.self),
            (.audit, AuditPage.self), (.admins, AdminsPage.self), (.roles, RolesPage.self), (.webhooks, WebhooksPage.self),
            (.consoleSignIn, ConsoleSignInPage.self), (.consoleOrganizations, ConsoleOrganizationsPage.self),
            (.consoleOrganization, ConsoleOrganizationPage.self), (.consoleCreated, ConsoleCreatedPage.self),
            (.consoleMessage, ConsoleMessagePage.self),
        ]
    }

    /// The names `template` uses (variables and sections, partials expanded), each with the tag it appears in.
    static func names(in template: Template, seen: Set<Template> = []) throws -> [String] {
        try names(in: template.source, named: template.rawValue, seen: seen.union([template]))
    }

    /// The names a template text uses, its partials expanded.
    static func names(in text: String, named: String, seen: Set<Template>) throws -> [String] {
        var names: [String] = []
        for match in text.matches(of: /\{\{\s*([#^\/>!&]?)\s*([^}\s]+)\s*\}\}/) {
            let (kind, name) = (match.1, String(match.2))
            switch kind {
            case "!", "/": continue
            case ">":
                let partial = try #require(Template(rawValue: name), "\(named) includes an unknown partial \(name)")
                #expect(!seen.contains(partial), "\(partial.rawValue) includes itself")
                if !seen.contains(partial) { names += try Self.names(in: partial, seen: seen) }
            default:
                if name != "." { names += name.split(separator: ".").map(String.init) }
            }
        }
        return names
    }

    /// Every name a value of `type` can show: its fields and those of the values it holds, transitively.
    static func fields(of type: any TemplateValue.Type, seen: inout Set<ObjectIdentifier>) -> Set<String> {
        guard seen.insert(ObjectIdentifier(type)).inserted else { return [] }
        var all = Set(type.fieldNames)
        for inner in type.nested { all.formUnion(fields(of: inner, seen: &seen)) }
        return all
    }

    @Test("every page template is listed with its model, and every name it uses is a field of that model, its frame or their items")
    func namesResolve() throws {
        let pageTemplates = Set(Template.allCases.filter { !$0.isPartial })
        #expect(Set(Self.pages.map(\.0)) == pageTemplates, "a page template without a model in this table")
        for (template, model) in Self.pages {
            var seen = Set<ObjectIdentifier>()
            let known = Self.fields(of: model, seen: &seen).union(Self.fields(of: model.frameType, seen: &seen))
            let missing = Set(try Self.names(in: template)).subtracting(known)
            #expect(missing.isEmpty, "\(template.rawValue).mustache uses \(missing.sorted()), which \(model) does not have")
        }
    }

    @Test("the check finds a misspelt name: the test's own parser and lookup, on a template text with one")
    func theCheckCanFail() throws {
        var seen = Set<ObjectIdentifier>()
        let known = Self.fields(of: WebhooksPage.self, seen: &seen).union(Self.fields(of: PortalChrome.self, seen: &seen))
        // The real template: its names are read (partials included) and all known.
        let used = try Self.names(in: .webhooks)
        #expect(used.contains("deliveries") && used.contains("resendable") && used.contains("csrf") && used.contains("title"))
        #expect(Set(used).isSubset(of: known))
        // The same text with one name misspelt: the check reports exactly it.
        let text = Template.webhooks.source.replacingOccurrences(of: "{{#resendable}}", with: "{{#resendible}}")
        let misspelt = Set(try Self.names(in: text, named: "webhooks (misspelt)", seen: [.webhooks])).subtracting(known)
        #expect(misspelt == ["resendible"])
    }

    @Test("a model renders its fields without reflection, an absent optional is absent, and the frame answers what the page lacks")
    func lookup() {
        let page = MessagePage(title: "T", heading: "H", text: "x", link: nil)
        #expect(page.child(named: "heading") as? String == "H")
        #expect(page.child(named: "link") == nil, "nil is absent, so {{#link}} does not show")
        #expect(page.child(named: "csrf") as? String == "", "from the chrome")
        #expect(page.child(named: "nosuch") == nil)
        #expect(page.template == .message && ConsoleMessagePage(title: "", heading: "", text: "").template == .consoleMessage)
        #expect(ConsoleMessagePage(title: "", heading: "", text: "").child(named: "console") as? Bool == true, "the console's title suffix")
    }
}

extension TemplateValue {
    /// The names of ``fields``.
    static var fieldNames: [String] { Array(fields.keys) }
}

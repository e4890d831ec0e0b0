import Foundation
import KeygateCore

// The portal's and the console's forms, one typed struct each, decoded from the posted body by Hummingbird's
// `URLEncodedFormDecoder` (``BrowserForms/decode(_:_:context:)``). A field the page does not send is nil; a field the
// struct does not declare is ignored (a browser sends what the page has); a repeated field or a malformed body is 400.

/// A form that changes something: it carries the page's CSRF token.
protocol TokenForm: Decodable, Sendable {
    var csrf: String? { get }
}

/// A number a form sends as text (a `<select>` of ids): nil when empty or not a number, as the page's own checks
/// expect ("choose a role"), rather than a malformed form.
struct FormNumber: Decodable, Sendable {
    let value: Int64?

    init(from decoder: any Decoder) throws {
        value = Int64(try decoder.singleValueContainer().decode(String.self))
    }
}

/// Only the token: the buttons of one action (sign out, retry, test, enable, disable, roll, delete).
struct TokenOnlyForm: TokenForm {
    let csrf: String?
}

/// The portal's and the console's sign-in.
struct SignInForm: Decodable, Sendable {
    let loginName: String?
    let password: String?
}

/// Edit, regenerate, delete or add the key.
struct KeyForm: TokenForm {
    let csrf: String?
    let keyValue: String?
    let id: FormNumber?
}

/// The key table's columns.
struct ColumnsForm: TokenForm {
    let csrf: String?
    let columns: String?
}

/// One key applied to every organization the browser is signed in to.
struct ApplyKeyForm: TokenForm {
    let csrf: String?
    let from: FormNumber?
    let keyValue: String?
}

/// A new admin.
struct NewAdminForm: TokenForm {
    let csrf: String?
    let loginName: String?
    let userName: String?
    let email: String?
    let roleID: FormNumber?
    let password: String?
}

/// An admin's disable, enable, role or details.
struct AdminActionForm: TokenForm {
    let csrf: String?
    let action: String?
    let roleID: FormNumber?
    let userName: String?
    let email: String?
}

/// A new role, or a role's access level.
struct RoleForm: TokenForm {
    let csrf: String?
    let name: String?
    let level: String?
}

/// "Send again every delivery that failed in the last …": how many hours back.
struct RecoverWebhookForm: TokenForm {
    let csrf: String?
    let hours: FormNumber?
}

/// A new webhook endpoint: its URL and one checkbox per event type (`event.<type>=on`).
struct NewWebhookForm: TokenForm {
    let csrf: String?
    let url: String?
    /// The event types whose box is checked.
    let events: [WebhookEventType]

    private struct Field: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let form = try decoder.container(keyedBy: Field.self)
        csrf = try form.decodeIfPresent(String.self, forKey: Field(stringValue: "csrf"))
        url = try form.decodeIfPresent(String.self, forKey: Field(stringValue: "url"))
        events = try WebhookEventType.subscribable.filter {
            try form.decodeIfPresent(String.self, forKey: Field(stringValue: "event.\($0.rawValue)")) == "on"
        }
    }
}

/// The console's new organization.
struct NewOrganizationForm: TokenForm {
    let csrf: String?
    let name: String?
    let adminLogin: String?
}

/// The console's disable or enable of a key.
struct KeyStateForm: TokenForm {
    let csrf: String?
    let action: String?
}

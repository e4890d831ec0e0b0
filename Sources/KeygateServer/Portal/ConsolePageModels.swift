import Foundation
import KeygateCore

// MARK: The console

/// The console's header: the signed-in operator and the sign-out form's token.
struct ConsoleChrome {
    var `operator`: String?
    var csrf = ""
    let console = true
}

struct ConsoleSignInPage: PageModel {
    var chrome = ConsoleChrome()
    var title = "Sign in"
    var error: String?
    var loginName: String?
}

struct ConsoleOrganizationsPage: PageModel {
    var chrome: ConsoleChrome
    var title = "Organizations"
    /// How many match: a number, or "More than 1,000" when the count stopped at its cap.
    var count: String
    var q: String
    var page: Int
    var pages: Int
    var prev: String?
    var next: String?
    var orgs: [Row]
    var done: String?
    var formError: String?
    var formName: String?
    var formAdmin: String?

    struct Row {
        let id: Int64
        let name: String
        let admins: Int
        let keyStatus: String
        let lastUsed: String
    }
}

struct ConsoleCreatedPage: PageModel {
    var chrome: ConsoleChrome
    var title: String
    var id: Int64
    var name: String
    var login: String
    var password: String
    var key: String
}

struct ConsoleOrganizationPage: PageModel {
    var chrome: ConsoleChrome
    var title: String
    var id: Int64
    var name: String
    var hasKey = false
    var enabled = false
    var keyStatus: String?
    var modifiedBy: String?
    var modifiedOn: String?
    var sessions: Int?
    var done: String?
    var events: [EventRow]
    var usage: UsagePanel?
}

import Hummingbird
import KeygateCore

/// Resolves the provider console's session once per request, from its cookie, for every console page but the sign-in
/// page: the console's counterpart of ``PortalSessionMiddleware`` and the API's ``SessionMiddleware``. A missing or
/// ended session is ``KeygateError/sessionNotValid``, which the browser-area errors turn into the sign-in page.
struct ConsoleSessionMiddleware: RouterMiddleware {
    let keygate: Keygate

    func handle(
        _ request: Request, context: KeygateRequestContext, next: (Request, KeygateRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let token = Cookies.value(request, named: ProviderController.cookieName) else { throw KeygateError.sessionNotValid }
        let op = try await keygate.operatorSession(token: token)
        var context = context
        context.console = ConsoleContext.Resolved(operator: op, token: String(token))
        return try await next(request, context)
    }
}

/// The context of a signed-in console page: the operator is there, not optional.
struct ConsoleContext: ChildRequestContext, KeygateContext {
    /// What ``ConsoleSessionMiddleware`` resolved.
    struct Resolved: Sendable {
        let `operator`: ProviderOperator
        let token: String
    }

    var coreContext: CoreRequestContextStorage
    /// The signed-in operator.
    let `operator`: ProviderOperator
    /// The session's cookie value (the form token is derived from it).
    let token: String
    let addresses: RequestAddresses

    init(context: KeygateRequestContext) throws {
        guard let resolved = context.console else { throw KeygateError.sessionNotValid }
        self.coreContext = context.coreContext
        self.operator = resolved.operator
        self.token = resolved.token
        self.addresses = context.addresses
    }

    /// The console's header for this operator.
    var chrome: ConsoleChrome { ConsoleChrome(operator: `operator`.loginName, csrf: ProviderController.csrf(token[...])) }
}

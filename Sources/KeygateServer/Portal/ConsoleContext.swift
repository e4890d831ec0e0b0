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
        let provider = try await keygate.operators.operatorSession(token: token)
        var context = context
        context.console = ConsoleContext.Resolved(provider: provider, token: String(token))
        return try await next(request, context)
    }
}

/// The context of a signed-in console page: the operator's authority as the provider is there, not optional, and it
/// is what the provider's use cases require.
struct ConsoleContext: ChildRequestContext, KeygateContext {
    /// What ``ConsoleSessionMiddleware`` resolved.
    struct Resolved: Sendable {
        let provider: Provider
        let token: String
    }

    var coreContext: CoreRequestContextStorage
    /// The signed-in operator's authority, in their name.
    let provider: Provider
    /// The session's cookie value (the form token is derived from it).
    let token: String
    let addresses: RequestAddresses

    init(context: KeygateRequestContext) throws {
        guard let resolved = context.console else { throw KeygateError.sessionNotValid }
        self.coreContext = context.coreContext
        self.provider = resolved.provider
        self.token = resolved.token
        self.addresses = context.addresses
    }

    /// The console's header for this operator.
    var chrome: ConsoleChrome { ConsoleChrome(operator: provider.name, csrf: ProviderController.csrf(token[...])) }
}

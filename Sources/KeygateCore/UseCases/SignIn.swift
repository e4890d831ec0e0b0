import Foundation

/// The one sign-in flow of the API, the portal and the console, and the password work every sign-in shares.
struct SignInFlow: UseCases {
    /// What this concept needs of storage (an admin's password hash, upgraded after a sign-in), and no more.
    let passwordStorage: any AdminStore
    let environment: UseCaseEnvironment
}

extension SignInFlow {
    /// The one sign-in flow of the API, the portal and the console: refuse input no account could match, reserve the
    /// attempt in the lockout counters (before any password is checked, so simultaneous guesses cannot overrun a
    /// budget), find the account, verify the password against its hash (or a decoy's, with the same work, when there is
    /// none), and let `complete` make the session. The attempt counts as succeeded only when `complete` returns: any
    /// refusal after the reservation (a wrong password, a stale or replayed API login, a disabled account, a key or
    /// role that does not allow it) keeps it as a failed attempt, and the lockouts it began are counted.
    /// - Parameters:
    ///   - throttleName: the name the lockout counters know the attempt by (`loginName` for admins; the console's
    ///     operators are keyed apart).
    ///   - account: the account `loginName` names and the password hash to verify, or nil.
    ///   - complete: makes the session for the proven account; runs only after the password was proven.
    func signIn<Account, Result>(
        loginName: String, password: String, throttleName: String? = nil, clientAddress: String, now: Date,
        account: () async throws -> (account: Account, passwordHash: String)?, complete: (Account) async throws -> Result
    ) async throws -> Result {
        try Self.validateSignInInput(loginName: loginName, password: password)
        let reservation = try await loginThrottle.reserve(loginName: throttleName ?? loginName, address: clientAddress, now: now)
        do {
            let found = try await account()
            let proven = try await verifySignInPassword(password, storedHash: found?.passwordHash)
            guard proven, let found else { throw KeygateError.invalidCredentials }
            let result = try await complete(found.account)
            try await loginThrottle.succeeded(reservation, now: now)
            return result
        } catch {
            await countLockouts(reservation, now: now)
            throw error
        }
    }

    /// Counts the lockouts a failed attempt began. Best effort: a failure to read the counters only loses the figure.
    func countLockouts(_ reservation: LoginThrottle.Reservation, now: Date) async {
        guard let filled = try? await loginThrottle.filledScopes(reservation) else { return }
        for scope in filled { metrics.lockout(scope) }
    }

    /// Refuses sign-in input that no account could match before anything is counted: an empty or over-long login
    /// name (a 4 KB name would become a counter key longer than PostgreSQL indexes), an empty or over-long password.
    /// One rule for the API login, the portal, the console and `passwordChange`; revealing the limits (256 and 1,024
    /// characters) tells an attacker nothing.
    static func validateSignInInput(loginName: String, password: String) throws {
        // Lengths in Unicode scalars, as JSON Schema (and so the OpenAPI document) counts them.
        guard !loginName.isEmpty, loginName.unicodeScalars.count <= LoginThrottle.maxLoginNameLength else {
            throw KeygateError.invalidInput("username must be 1-\(LoginThrottle.maxLoginNameLength) characters")
        }
        guard password.unicodeScalars.count <= 1024 else { throw KeygateError.invalidInput("password must be at most 1024 characters") }
        guard !password.isEmpty else { throw KeygateError.invalidInput("password is required") }
    }

    /// A browser sign-in (the portal's or the console's): ``signIn(loginName:password:throttleName:clientAddress:now:account:complete:)``
    /// at the clock's now, its outcome counted on `surface`.
    func browserSignIn<Account, Result>(
        _ surface: KeygateMetrics.SignInSurface, loginName: String, password: String, throttleName: String? = nil, clientAddress: String,
        account: () async throws -> (account: Account, passwordHash: String)?, complete: (Account, Date) async throws -> Result
    ) async throws -> Result {
        let now = self.now()
        do {
            let result = try await signIn(
                loginName: loginName, password: password, throttleName: throttleName, clientAddress: clientAddress, now: now,
                account: account, complete: { try await complete($0, now) })
            metrics.signIn(surface, .success)
            return result
        } catch {
            metrics.signIn(surface, KeygateMetrics.SignInOutcome(error))
            throw error
        }
    }
}

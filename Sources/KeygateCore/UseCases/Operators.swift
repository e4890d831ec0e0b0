import Foundation

// The provider console's operators and their browser sessions.

/// The provider console's operators and their browser sessions.
public struct OperatorUseCases: UseCases {
    /// What this concept needs of storage (operators and their console sessions), and no more: its use cases reach data only through it.
    let operatorStorage: any OperatorStore
    /// The one sign-in flow.
    let signIns: SignInFlow
    let environment: UseCaseEnvironment
}

extension OperatorUseCases {
    /// Creates a provider console operator (the CLI's `keygate provider create-operator`).
    /// - Parameter password: nil generates one (returned once; stored only as a bcrypt hash).
    /// - Returns: the operator and the password to hand over.
    public func createOperator(_ provider: Provider, loginName: String, password: String?) async throws -> (ProviderOperator, password: String) {
        try Admin.validateLoginName(loginName)
        let password = password ?? PasswordPolicy.generate()
        try PasswordPolicy.validate(password)
        let created = try await operatorStorage.insertOperator(
            ProviderOperator(id: 0, loginName: loginName, passwordHash: try await hasher.hash(password), createdAt: now()))
        return (created, password)
    }

    /// Disables an operator (their console sessions end at once) or enables them again.
    /// - Throws: ``KeygateError/notFound(_:)`` for an unknown login name.
    public func setOperatorDisabled(_ provider: Provider, loginName: String, disabled: Bool) async throws {
        guard try await operatorStorage.setOperatorDisabled(loginName: loginName, disabled: disabled) else {
            throw KeygateError.notFound("no operator named \(loginName)")
        }
    }

    /// Signs an operator in to the provider console. The same work for every failure (one bcrypt verification,
    /// against a dummy hash for an unknown name) and the same lockout counters as admin logins, keyed apart.
    /// - Returns: the session token (only its SHA-256 is stored).
    public func operatorSignIn(loginName: String, password: String, clientAddress: String) async throws -> String {
        try await signIns.browserSignIn(
            .console, loginName: loginName, password: password, throttleName: "provider:" + loginName, clientAddress: clientAddress,
            account: { try await operatorStorage.providerOperator(loginName: loginName).map { ($0, $0.passwordHash) } },
            complete: { op, now in
                guard !op.disabled else { throw KeygateError.adminDisabled }
                let token = Secrets.newSessionToken()
                try await operatorStorage.createOperatorSession(tokenHash: Secrets.sha256Hex(token), operatorID: op.id, at: now)
                return token
            })
    }

    /// Checks a console session (idle timeout: the portal's).
    /// - Throws: ``KeygateError/sessionNotValid`` for a malformed, unknown, idle or disabled one.
    /// - Returns: the operator's authority as the provider (``Provider``), in their name.
    public func operatorSession(token: Substring) async throws -> Provider {
        guard Secrets.isWellFormedToken(token) else { throw KeygateError.sessionNotValid }
        let hash = Secrets.sha256Hex(token)
        guard let (op, lastSeen, created) = try await operatorStorage.operatorSession(tokenHash: hash), !op.disabled else {
            throw KeygateError.sessionNotValid
        }
        let now = self.now()
        let lifetime = settings.browserLifetime
        guard lifetime.allows(createdAt: created, lastSeenAt: lastSeen, now: now) else { throw KeygateError.sessionNotValid }
        if lifetime.touchIsDue(lastSeenAt: lastSeen, now: now) { try await operatorStorage.touchOperatorSession(tokenHash: hash, at: now) }
        return Provider(name: op.loginName)
    }

    /// Ends a console session (and purges idle ones).
    public func operatorSignOut(token: Substring) async throws {
        let hashes = Secrets.isWellFormedToken(token) ? [Secrets.sha256Hex(token)] : []
        _ = try await operatorStorage.deleteOperatorSessions(tokenHashes: hashes, idleBefore: now().addingTimeInterval(-settings.portalIdle))
    }

    /// Every console operator, by login name.
    public func providerOperators(_ provider: Provider) async throws -> [ProviderOperator] { try await operatorStorage.providerOperators() }
}

import Foundation

/// Decoy password hashes, one for each cost from the hasher's lowest to the configured one, so that checking a
/// sign-in password costs the same whatever the account's hash was made with, and whether or not the account exists.
///
/// The problem it solves: an unknown login name is checked against a decoy at the configured cost, but stored hashes
/// keep the cost they were made with (an import of existing bcrypt hashes, a cost raised since): an account imported
/// at cost 6 on a cost-10 server answered in a tenth of the time of an unknown name, telling that it exists. Here the
/// work of one check is always one verification at the configured cost `C`:
/// - no account: the decoy at `C`;
/// - a stored hash at cost `c < C`: the stored hash, then the decoys at `c, c+1, …, C-1`
///   (2^c + 2^c + 2^(c+1) + … + 2^(C-1) = 2^C rounds);
/// - a stored hash at `C`: the stored hash alone; a hash this hasher cannot read: the decoy at `C`.
/// A hash above `C` (made before the cost was lowered) costs more until its account's next sign-in replaces it with
/// one at `C` (``Keygate`` upgrades every hash not at `C` on a successful sign-in).
public struct PasswordDecoys: Sendable {
    /// The configured cost.
    public let cost: Int
    let byCost: [Int: String]

    /// Makes the decoys (random passwords): about the time of two hashes at the configured cost, once at start.
    public static func make(hasher: any PasswordHasher) async throws -> PasswordDecoys {
        var byCost: [Int: String] = [:]
        for cost in hasher.minimumCost...max(hasher.minimumCost, hasher.cost) {
            byCost[cost] = try await hasher.hash(PasswordPolicy.generate(), cost: cost)
        }
        return PasswordDecoys(cost: hasher.cost, byCost: byCost)
    }

    /// The hashes to verify, after one verification whose work was `done` (a cost; nil: none), to reach the
    /// configured cost's work.
    func padding(after done: Int?) -> [String] {
        guard let done else { return byCost[cost].map { [$0] } ?? [] }
        guard done < cost else { return [] }
        return (done..<cost).compactMap { byCost[$0] }
    }
}

extension SignInFlow {
    /// Checks a sign-in password against an account's stored hash (nil: no such account) with the same work either
    /// way and whatever the hash's cost (``PasswordDecoys``).
    /// - Returns: whether the password matches a stored hash.
    func verifySignInPassword(_ password: String, storedHash: String?) async throws -> Bool {
        let matches: Bool
        let done: Int?
        if let storedHash, let storedCost = hasher.cost(of: storedHash) {
            matches = try await hasher.verify(password, against: storedHash)
            done = storedCost
        } else {
            matches = false
            done = nil
        }
        for decoy in decoys.padding(after: done) { _ = try await hasher.verify(password, against: decoy) }
        return matches
    }

    /// After a successful sign-in, replaces an admin's hash made at another cost than the configured one with one at
    /// the configured cost (the password is at hand only now). Only if the stored hash is still the one checked, so a
    /// password changed meanwhile stays changed. Best effort: a failure leaves the old hash, which still works.
    func upgradePasswordHashIfNeeded(_ admin: Admin, password: String) async {
        guard let cost = hasher.cost(of: admin.passwordHash), cost != hasher.cost,
            let upgraded = try? await hasher.hash(password)
        else { return }
        _ = try? await passwordStorage.replacePasswordHash(adminID: admin.id, orgID: admin.orgID, from: admin.passwordHash, to: upgraded)
    }
}

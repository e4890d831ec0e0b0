import ArgumentParser
import Foundation
import KeygateCore

/// `keygate login-failures`: the failed sign-in windows that have not ended (API, portal and console sign-ins and
/// `passwordChange` guesses), most failures first, with what is locked now. The counts live in the database, so this
/// shows every instance's failures; the servers also log each refused sign-in (`login refused`).
struct LoginFailuresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login-failures", abstract: "Show failed sign-ins and lockouts in the current windows.")
    @OptionGroup var common: CommonOptions

    struct Row: Encodable {
        let scope: String
        let login: String?
        let address: String?
        let failures: Int
        let budget: Int
        let locked: Bool
        let until: String
    }

    func run() async throws {
        try await withRuntime(common) { runtime in
            let rows = try await runtime.keygate.environment.loginThrottle.failureWindows(now: Date()).map {
                Row(
                    scope: $0.scope, login: $0.loginName, address: $0.address, failures: $0.failures, budget: $0.budget, locked: $0.locked,
                    until: Output.iso($0.endsAt))
            }
            Output.emit(common.json, rows) {
                rows.isEmpty
                    ? "no failed sign-ins in the current windows"
                    : rows.map {
                        "\($0.locked ? "LOCKED" : "      ")  \($0.scope)  \([$0.login, $0.address].compactMap { $0 }.joined(separator: " from "))  "
                            + "\($0.failures)/\($0.budget) until \($0.until)"
                    }.joined(separator: "\n")
            }
        }
    }
}

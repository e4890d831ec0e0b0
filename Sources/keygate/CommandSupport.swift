import ArgumentParser
import Foundation
import KeygateCore

/// Reads a password from standard input (first line), for `--password-stdin`.
func readPasswordFromStdin() throws -> String {
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw ValidationError("--password-stdin: no password on standard input")
    }
    return line
}

/// Runs `body` with an opened runtime and turns domain errors into a clear message and exit code 1.
func withRuntime(_ common: CommonOptions, _ body: (Runtime) async throws -> Void) async throws {
    let runtime = try await Runtime.open(common)
    do {
        try await body(runtime)
        await runtime.close()
    } catch let error as KeygateError {
        await runtime.close()
        if common.json {
            Output.printJSON(["error": "\(error)"])
        } else {
            FileHandle.standardError.write(Data("error: \(describe(error))\n".utf8))
        }
        throw ExitCode(1)
    } catch {
        await runtime.close()
        throw error
    }
}

func describe(_ error: KeygateError) -> String {
    switch error {
    case .invalidInput(let m), .forbidden(let m), .notFound(let m), .conflict(let m): m
    case .keyDisabled: "the key is disabled"
    case .adminDisabled: "the admin is disabled"
    case .editLockNotAvailable: "another change won the race; retry"
    case .invalidCredentials: "invalid credentials"
    case .sessionNotValid: "session not valid"
    case .rateLimited(let s, _): "rate limited; retry in \(s) s"
    case .loginLocked(let s): "too many failed logins; retry in \(s) s"
    }
}

/// The operator's name in audit records: `$USER` at the console.
var operatorName: String { "provider:" + (ProcessInfo.processInfo.environment["USER"] ?? "cli") }

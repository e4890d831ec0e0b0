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

/// A setup problem the operator must fix (a missing database or master key): printed as one `Error:` line, exit
/// status 1, without the usage text a `ValidationError` adds (the command line itself was fine).
struct OperatorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` with an opened runtime and turns domain errors into a clear message and exit code 1.
/// - Parameter creates: whether the command may create a new database and master key (``Runtime/with``).
func withRuntime(_ common: CommonOptions, creates: Bool = false, _ body: (Runtime) async throws -> Void) async throws {
    do {
        try await Runtime.with(common, creates: creates, body)
    } catch let error as KeygateError {
        if common.json {
            Output.printJSON(["error": "\(error)"])
        } else {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        }
        throw ExitCode(1)
    }
}

/// The options of a command that acts on one organization: the common ones and `--org`.
struct OrganizationOptions: ParsableArguments {
    @OptionGroup var common: CommonOptions
    @Option(help: "Organization name or id.") var org: String

    /// Runs `body` with the runtime and the organization `--org` names (by id or name, as the provider): what every
    /// command about one organization starts with.
    func withOrganization(_ body: (Runtime, Organization) async throws -> Void) async throws {
        try await withRuntime(common) { runtime in
            try await body(runtime, try await runtime.keygate.organizations.findOrganization(runtime.provider, org))
        }
    }
}

/// The operator's name in audit records: `$USER` at the console.
var operatorName: String { "provider:" + (ProcessInfo.processInfo.environment["USER"] ?? "cli") }

/// Writes a master key file, mode 0600 from its first byte. `exclusive` never replaces a file: it returns false when
/// one is there. Otherwise the file is replaced atomically (written beside it, synced, renamed), so a server re-reading
/// it never sees half a key.
/// - Returns: whether the file was written.
@discardableResult
func writeKeyFile(_ path: String, hex: String, exclusive: Bool) throws -> Bool {
    let target = exclusive ? path : path + ".tmp-\(getpid())"
    let fd = Glibc.open(target, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard fd >= 0 else {
        if exclusive && errno == EEXIST { return false }
        throw OperatorError("cannot write \(target)")
    }
    let bytes = Array((hex + "\n").utf8)
    let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    let synced = fsync(fd) == 0
    Glibc.close(fd)
    guard written == bytes.count, synced else { throw OperatorError("cannot write \(target)") }
    if !exclusive {
        guard rename(target, path) == 0 else {
            unlink(target)
            throw OperatorError("cannot replace \(path)")
        }
    }
    return true
}

/// Reads a master key file, refusing one that others may read or anyone but its owner (and group) may write, as
/// OpenSSH refuses a private key file others can read: a key copied off a shared host opens every stored API key.
/// Group read is allowed (`root:keygate 0640` for a service group); world access or group write is not.
/// - Returns: the file's text, or nil when there is no such file.
/// - Throws: ``OperatorError`` naming the file, its mode and the `chmod` that fixes it; a file that cannot be read.
func readMasterKeyFile(_ path: String) throws -> String? {
    var info = stat()
    guard stat(path, &info) == 0 else {
        if errno == ENOENT { return nil }
        throw OperatorError("cannot read the master key file \(path)")
    }
    let mode = info.st_mode & 0o777
    if mode & 0o027 != 0 {
        throw OperatorError(
            "the master key file \(path) is \(mode & 0o007 != 0 ? "accessible to every user" : "writable by its group") (mode "
                + "\(String(mode, radix: 8))): run `chmod 600 \(path)`; Keygate does not use a master key others can read or replace")
    }
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw OperatorError("cannot read the master key file \(path)")
    }
    return text
}

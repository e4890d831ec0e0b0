import Foundation
import KeygateCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a file (or standard input for `-`) line by line without loading it: an import file may hold a million rows.
final class LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private let closes: Bool
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0
    /// The 1-based number of the line last returned.
    private(set) var lineNumber = 0

    init(path: String) throws {
        if path == "-" {
            guard let input = fdopen(0, "r") else { throw KeygateError.invalidInput("cannot read standard input") }
            file = input
            closes = false
        } else {
            guard let opened = fopen(path, "r") else {
                throw KeygateError.invalidInput("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            file = opened
            closes = true
        }
    }

    deinit {
        free(buffer)
        if closes { fclose(file) }
    }

    /// The next line without its line ending, nil at the end of the file.
    func next() -> String? {
        let length = getline(&buffer, &capacity, file)
        guard length >= 0, let buffer else { return nil }
        lineNumber += 1
        var line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self)
        while line.hasSuffix("\n") || line.hasSuffix("\r") { line.removeLast() }
        return line
    }
}

/// The two import and export formats.
enum RecordFormat: String, CaseIterable {
    /// One JSON object per line: `{"organization":…,"login":…,"passwordHash":…|"password":…,"key":…}`.
    case jsonl
    /// A header line naming the columns (`organization,login,passwordHash,password,key`, any order, `password_hash`
    /// also accepted), then one row per line; RFC 4180 quoting, without line breaks inside fields.
    case csv

    /// `--format`, else the file's extension (`.csv` is CSV, anything else JSON Lines).
    static func resolve(_ option: String?, path: String) throws -> RecordFormat {
        if let option {
            guard let format = RecordFormat(rawValue: option.lowercased()) else {
                throw KeygateError.invalidInput("--format must be jsonl or csv")
            }
            return format
        }
        return path.lowercased().hasSuffix(".csv") ? .csv : .jsonl
    }
}

/// Parses import lines into records. A line it cannot parse is an error for that line only.
struct RecordParser {
    let format: RecordFormat
    private var columns: [String: Int]?

    init(format: RecordFormat) { self.format = format }

    private struct JSONRecord: Decodable {
        var organization: String
        var login: String
        var passwordHash: String?
        var password: String?
        var key: String?
    }

    /// The record on `line` (nil for a blank line or the CSV header), or the reason it cannot be read.
    mutating func parse(_ text: String, line: Int) -> Result<OrganizationImportRecord, KeygateError>? {
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
        switch format {
        case .jsonl:
            do {
                let record = try JSONDecoder().decode(JSONRecord.self, from: Data(text.utf8))
                return .success(
                    OrganizationImportRecord(
                        line: line, organization: record.organization, login: record.login, passwordHash: record.passwordHash,
                        password: record.password, key: record.key))
            } catch {
                return .failure(.invalidInput("not a JSON object with string fields organization and login (and passwordHash or password, key)"))
            }
        case .csv:
            guard let fields = Self.csvFields(text) else { return .failure(.invalidInput("malformed CSV (an unclosed quote?)")) }
            guard let columns else {
                var names: [String: Int] = [:]
                for (i, name) in fields.enumerated() {
                    let normalized = name.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: "")
                    names[normalized] = i
                }
                guard names["organization"] != nil, names["login"] != nil else {
                    return .failure(.invalidInput("the CSV header must name organization and login columns"))
                }
                self.columns = names
                return nil
            }
            func field(_ name: String) -> String? { columns[name].flatMap { $0 < fields.count ? fields[$0] : nil } }
            return .success(
                OrganizationImportRecord(
                    line: line, organization: field("organization") ?? "", login: field("login") ?? "",
                    passwordHash: field("passwordhash"), password: field("password"), key: field("key")))
        }
    }

    /// The fields of one CSV line, nil when a quote is left open.
    static func csvFields(_ line: String) -> [String]? {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        var pending: Character? = iterator.next()
        while let c = pending {
            pending = iterator.next()
            if quoted {
                if c == "\"" {
                    if pending == "\"" {
                        current.append("\"")
                        pending = iterator.next()
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(c)
                }
            } else if c == "\"" && current.isEmpty {
                quoted = true
            } else if c == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        guard !quoted else { return nil }
        fields.append(current)
        return fields
    }

    /// One CSV field, quoted when it needs to be.
    static func csvField(_ value: String?) -> String {
        guard let value else { return "" }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

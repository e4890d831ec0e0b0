import Foundation
import Hummingbird
import KeygateCore

/// A parsed JSON value. Request bodies are read into this first so that every malformed, mistyped or unknown
/// field gets a precise 400 instead of a generic decoding failure.
enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}

/// A JSON object from a request body, with typed accessors that fail with a clear message.
struct JSONBody: Sendable {
    /// The fields, empty for an empty body.
    let fields: [String: JSONValue]

    /// Reads and parses the request body.
    ///
    /// An empty body is an empty object (the legacy clients send POST/PUT with no body). A non-empty body must
    /// be `application/json` (415 otherwise), at most the context's upload size (413), and a JSON object (400).
    static func read(_ request: Request, context: some KeygateContext) async throws -> JSONBody {
        let buffer = try await context.collectBody(request)
        if buffer.readableBytes == 0 || buffer.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return JSONBody(fields: [:])
        }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json")) else {
            throw HTTPError(.unsupportedMediaType, message: "the request body must be JSON with Content-Type: application/json")
        }
        let value: JSONValue
        let bytes = Array(buffer.readableBytesView)
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw KeygateError.invalidInput("the request body is not valid JSON")
        }
        if let name = Self.repeatedMember(bytes) {
            throw KeygateError.invalidInput("the request body names \(name.prefix(64)) twice in one object")
        }
        guard case .object(let fields) = value else { throw KeygateError.invalidInput("the request body must be a JSON object") }
        return JSONBody(fields: fields)
    }

    /// The first member name repeated within one object of `bytes` (valid JSON), or nil.
    ///
    /// Parsers disagree on which of `{"userName":"a","userName":"b"}` wins (Foundation keeps one, a proxy or a
    /// log pipeline another), so a body with a repeated member is refused rather than read one way here and another
    /// way elsewhere. Names are compared after unescaping (`"a"` and `"\u0061"` are the same member).
    static func repeatedMember(_ bytes: [UInt8]) -> String? {
        // One entry per open container: the names seen so far for an object, nil for an array.
        var stack: [(names: Set<String>, isObject: Bool, expectingName: Bool)] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"): stack.append(([], true, true))
            case UInt8(ascii: "["): stack.append(([], false, false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","): if !stack.isEmpty, stack[stack.count - 1].isObject { stack[stack.count - 1].expectingName = true }
            case UInt8(ascii: ":"): if !stack.isEmpty { stack[stack.count - 1].expectingName = false }
            case UInt8(ascii: "\""):
                let start = index
                var escaped = false
                index += 1
                while index < bytes.count {
                    if bytes[index] == UInt8(ascii: "\\") {
                        escaped = true
                        index += 2
                        continue
                    }
                    if bytes[index] == UInt8(ascii: "\"") { break }
                    index += 1
                }
                if let top = stack.last, top.isObject, top.expectingName {
                    let literal = bytes[start...min(index, bytes.count - 1)]
                    let name =
                        escaped
                        ? (try? JSONDecoder().decode(String.self, from: Data(literal))) ?? String(decoding: literal, as: UTF8.self)
                        : String(decoding: literal.dropFirst().dropLast(), as: UTF8.self)
                    if stack[stack.count - 1].names.insert(name).inserted == false { return name }
                }
            default: break
            }
            index += 1
        }
        return nil
    }

    /// Refuses fields outside `allowed` (unknown fields are an error, never silently dropped).
    func allowOnly(_ allowed: Set<String>) throws {
        let unknown = fields.keys.filter { !allowed.contains($0) }.sorted()
        if let first = unknown.first {
            throw KeygateError.invalidInput("unknown field \(first)" + (unknown.count > 1 ? " (and \(unknown.count - 1) more)" : ""))
        }
    }

    /// A string field; nil when absent or null.
    func string(_ name: String) throws -> String? {
        switch fields[name] {
        case .none, .null: return nil
        case .string(let s): return s
        default: throw KeygateError.invalidInput("\(name) must be a string")
        }
    }

    /// A required string field.
    func requiredString(_ name: String) throws -> String {
        guard let value = try string(name) else { throw KeygateError.invalidInput("\(name) is required") }
        return value
    }

    /// A boolean field (JSON true/false only).
    func bool(_ name: String) throws -> Bool? {
        switch fields[name] {
        case .none, .null: return nil
        case .bool(let b): return b
        default: throw KeygateError.invalidInput("\(name) must be true or false")
        }
    }

    /// An integer field; a string of digits is accepted too (several clients quote ids).
    func integer(_ name: String) throws -> Int64? {
        switch fields[name] {
        case .none, .null: return nil
        case .integer(let i): return i
        case .string(let s) where Int64(s) != nil: return Int64(s)
        default: throw KeygateError.invalidInput("\(name) must be an integer")
        }
    }

    /// A nested object field.
    func object(_ name: String) throws -> [String: JSONValue]? {
        switch fields[name] {
        case .none, .null: return nil
        case .object(let o): return o
        default: throw KeygateError.invalidInput("\(name) must be an object")
        }
    }
}

extension Request {
    /// A boolean query parameter, `true`/`false` in any case (the SDKs send `True`); nil when absent.
    func booleanQuery(_ name: String) throws -> Bool? {
        guard let value = uri.queryParameters[Substring(name)] else { return nil }
        switch value.lowercased() {
        case "true": return true
        case "false": return false
        default: throw KeygateError.invalidInput("\(name) must be true or false")
        }
    }

    /// The path id parameter (`{id}`, or `parameter`) as a positive integer, or a 404 (an id that cannot exist names
    /// no resource).
    func pathID(_ context: some RequestContext, _ what: String, parameter: String = "id") throws -> Int64 {
        guard let text = context.parameters.get(parameter), let id = Int64(text), id > 0 else {
            throw KeygateError.notFound("\(what) not found")
        }
        return id
    }
}

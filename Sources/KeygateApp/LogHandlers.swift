import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What a log line may not carry as it is: characters that would let a value (a login name, a header) start a new
/// line, hide or reorder text in a terminal, or pass for another field.
///
/// Escaped as `\u{XXXX}`, in both formats: C0 controls and DEL, C1 controls (U+0080-U+009F: NEL, CSI), the line and
/// paragraph separators U+2028/U+2029, and the bidi controls (U+061C, U+200E, U+200F, U+202A-U+202E,
/// U+2066-U+2069). A backslash is escaped too, so an escape in the output always means the server wrote it.
public enum LogText {
    static func mustEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// `text` with every character in the list above (and `\`) escaped.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { mustEscape($0) || $0 == "\\" }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\\" {
                out.append(contentsOf: "\\\\".unicodeScalars)
            } else if mustEscape(scalar) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// A metadata value for a `key=value` text line: escaped, and in double quotes (with `"` escaped) when it is
    /// empty or holds a space, `=` or `"`, so no value can add a field.
    public static func fieldValue(_ text: String) -> String {
        let escaped = escaped(text)
        guard escaped.isEmpty || escaped.contains(where: { $0 == "=" || $0 == "\"" || $0.isWhitespace }) else { return escaped }
        return "\"" + escaped.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// The metadata of one event: the handler's, the provider's, then the event's own (later ones win).
private func mergedMetadata(_ handler: Logger.Metadata, _ provider: Logger.MetadataProvider?, _ event: Logger.Metadata?) -> Logger.Metadata {
    var merged = handler
    if let provided = provider?.get(), !provided.isEmpty { merged.merge(provided) { $1 } }
    if let event, !event.isEmpty { merged.merge(event) { $1 } }
    return merged
}

/// Writes a whole line to standard error under one lock, so lines of concurrent requests never interleave.
private let standardError = Mutex(())

private func writeLine(_ line: String) {
    var line = line
    line.append("\n")
    standardError.withLock { _ in
        line.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
    }
}

/// Keygate's log handler: one line per event on standard error, in the `log.format` chosen. The metadata is only
/// rendered when a line is written.
public struct KeygateLogHandler: LogHandler {
    /// How a line is written.
    public enum Format: Sendable {
        /// ``TextLogHandler``.
        case text
        /// ``JSONLogHandler``.
        case json
    }

    let label: String
    let format: Format
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    /// The first key set on a handler without metadata is kept here, not in ``dictionary``: Hummingbird gives every
    /// request's logger its `hb.request.id`, and a dictionary made for it cost an allocation per request whether or
    /// not a line was ever written (issue 19).
    private var single: (key: String, value: Logger.Metadata.Value)?
    private var dictionary: Logger.Metadata = [:]

    public init(label: String, format: Format, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.format = format
        self.metadataProvider = metadataProvider
    }

    public var metadata: Logger.Metadata {
        get {
            guard let single else { return dictionary }
            var merged = dictionary
            merged[single.key] = single.value
            return merged
        }
        set {
            single = nil
            dictionary = newValue
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { single?.key == key ? single?.value : dictionary[key] }
        set {
            if let held = single, held.key == key {
                single = newValue.map { (key, $0) }
            } else if single == nil, dictionary.isEmpty, let newValue {
                single = (key, newValue)
            } else {
                dictionary[key] = newValue
            }
        }
    }

    public func log(event: LogEvent) {
        if let line = line(for: event) { writeLine(line) }
    }

    /// The line `event` becomes (without the newline): this handler's metadata, its provider's (a request's id), then
    /// the event's own.
    public func line(for event: LogEvent) -> String? {
        let metadata = mergedMetadata(metadata, metadataProvider, event.metadata)
        return switch format {
        case .text: TextLogHandler.line(event: event, label: label, metadata: metadata)
        case .json: JSONLogHandler.line(event: event, label: label, metadata: metadata)
        }
    }
}

/// `log.format=text` (the default): `<ts> <level> <label> : key=value key="a value" [<source>] <message>`, metadata
/// sorted by key. Values are quoted and escaped (``LogText``), so a login name such as `a client=203.0.113.9` stays
/// one field.
public enum TextLogHandler {
    /// ISO 8601 in UTC with milliseconds and the zone: `2026-12-04T12:56:38.965Z`.
    static let timestamp = Date.ISO8601FormatStyle().year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)

    /// The line for one event (without the newline).
    public static func line(event: LogEvent, label: String, metadata: Logger.Metadata, at date: Date = Date()) -> String {
        var fields = metadata.sorted { $0.key < $1.key }.map { "\(LogText.escaped($0.key))=\(LogText.fieldValue("\($0.value)"))" }
        if let error = event.error { fields.append("error=\(LogText.fieldValue("\(error)"))") }
        let ts = date.formatted(Self.timestamp)
        let meta = fields.isEmpty ? "" : " " + fields.joined(separator: " ")
        return "\(ts) \(event.level) \(label) :\(meta) [\(event.source)] \(LogText.escaped("\(event.message)"))"
    }
}

/// `log.format=json`: one JSON object per line, for log shippers. Keys: `ts` (ISO 8601, UTC, with milliseconds),
/// `level`, `label`, `message`, `source`, then the metadata (a request's lines carry `request_id`), each value as a
/// string (nested metadata as its text), escaped as in ``LogText`` before JSON's own escaping. Keys are sorted so
/// lines are stable.
public enum JSONLogHandler {
    /// As ``TextLogHandler``'s.
    static let timestamp = TextLogHandler.timestamp

    /// The line for one event (without the newline).
    public static func line(event: LogEvent, label: String, metadata: Logger.Metadata, at date: Date = Date()) -> String? {
        var fields: [String: String] = [:]
        for (key, value) in metadata { fields[LogText.escaped(key)] = LogText.escaped("\(value)") }
        if let error = event.error { fields["error"] = LogText.escaped("\(error)") }
        fields["ts"] = date.formatted(Self.timestamp)
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["message"] = LogText.escaped("\(event.message)")
        fields["source"] = event.source
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(fields) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

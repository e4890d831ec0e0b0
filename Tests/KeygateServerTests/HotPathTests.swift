import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeygateApp
import KeygateCore
import Logging
import NIOCore
import Synchronization
import Testing

@testable import KeygateServer

/// The parts issue 19 rewrote for speed, held to what they did before: request ids, their log lines, and the cookie
/// reader every API call goes through.
@Suite("Hot path")
struct HotPathTests {
    /// A log handler that keeps every line's merged metadata (the handler's, the provider's, the event's).
    struct CapturingHandler: LogHandler {
        let lines: Lines
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider? = RequestIDs.metadataProvider

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            merged.merge(metadataProvider?.get() ?? [:]) { $1 }
            merged.merge(event.metadata ?? [:]) { $1 }
            lines.box.withLock { $0.append(("\(event.message)", merged.mapValues { "\($0)" })) }
        }
    }

    final class Lines: Sendable {
        let box = Mutex<[(message: String, metadata: [String: String])]>([])
    }

    @Test("a line logged while a request is handled carries its id: the client's, or the one on the answer")
    func logLinesCarryTheRequestID() async throws {
        try await Harness.with { _, router in
            let captured = Lines()
            let app = Application(router: router, logger: Logger(label: "test") { _ in CapturingHandler(lines: captured) })
            let body = #"{"apiKey":"abcdefghijkl","username":"nobody@acme","password":"Wr0ng!pass","timestamp":"1700000000000"}"#
            try await app.test(.router) { client in
                let given = try await client.execute(
                    uri: "/api/v1/auth", method: .post, headers: [.contentType: "application/json", .xRequestID: "trace-4711.a:b_c"],
                    body: ByteBuffer(string: body))
                #expect(given.status == .badRequest && given.headers[.xRequestID] == "trace-4711.a:b_c")
                let made = try await client.execute(
                    uri: "/api/v1/auth", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body))
                let madeID = try #require(made.headers[.xRequestID])
                let refusals = captured.box.withLock { $0.filter { $0.message == "login refused" } }
                #expect(refusals.map { $0.metadata[RequestIDs.metadataKey] } == ["trace-4711.a:b_c", madeID])
            }
        }
    }

    @Test("the metadata provider adds request_id only while an id is bound, and the server's handler writes it")
    func provider() {
        #expect(RequestIDs.metadataProvider.get().isEmpty)
        RequestIDs.$current.withValue("abc-1") {
            #expect(RequestIDs.metadataProvider.get() == [RequestIDs.metadataKey: "abc-1"])
            // The server's handler, as `keygate serve` makes it (Runtime.makeLogger), writing a line of a request.
            var handler = KeygateLogHandler(label: "t", format: .json, metadataProvider: RequestIDs.metadataProvider)
            handler[metadataKey: "hb.request.id"] = "h"
            let event = LogEvent(level: .notice, message: "m", metadata: ["login": "x"], source: "s", file: "f", function: "g", line: 1)
            let line = handler.line(for: event) ?? ""
            #expect(line.contains(#""login":"x""#), "\(line)")
            #expect(line.contains(#""request_id":"abc-1""#) && line.contains(#""hb.request.id":"h""#), "\(line)")
        }
        #expect(RequestIDs.metadataProvider.get().isEmpty, "the binding ends with its scope")
    }

    @Test("an absolute-form target or leading empty segments stay in the browser area the router serves: limited, in HTML")
    func absoluteFormTarget() async throws {
        try await withServer(browserLimits: (perSecond: 2, perMinute: 100)) { _, client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<3 { statuses.append(try await client.send(.get, "http://h:x/portal/signin").status) }
            #expect(statuses == [.ok, .ok, .tooManyRequests])
            for target in ["http://keygate.example/portal/signin", "//portal/signin", "//provider/signin"] {
                let limited = try await client.send(.get, target)
                #expect(limited.status == .tooManyRequests && limited.headers[.contentType]?.hasPrefix("text/html") == true, "\(target)")
            }
        }
    }

    @Test("the key list's JSON is reused only for equal keys; any changed field writes it anew; the cache stays bounded")
    func renderedLists() throws {
        func key(_ value: String, enabled: Bool = true, by name: String = "ann", at time: TimeInterval = 1_795_749_071) throws -> APIKeyDTO {
            APIKeyDTO(
                APIKey(
                    id: 42, orgID: 7, value: try APIKeyValue(validating: value), version: 3, enabled: enabled,
                    lastModifiedBy: .admin(id: 9, name: name), lastModifiedAt: Date(timeIntervalSince1970: time), lastUsedAt: nil))
        }
        let lists = RenderedKeyLists(limit: 2)
        let variants = [
            [try key("AbC123dEf456")], [try key("Zyx987wVu654")], [try key("Zyx987wVu654", enabled: false)],
            [try key("Zyx987wVu654", enabled: false, by: "bob")], [try key("Zyx987wVu654", enabled: false, by: "bob", at: 1_795_749_999)], [],
        ]
        for keys in variants + variants.reversed() {
            #expect(String(buffer: lists.json(orgID: 7, keys: keys)) == String(buffer: APIKeyDTO.listJSON(keys)))
            #expect(String(buffer: lists.json(orgID: 7, keys: keys)) == String(buffer: APIKeyDTO.listJSON(keys)), "a hit")
        }
        for org in 1...5 { _ = lists.json(orgID: Int64(org), keys: variants[org % variants.count]) }
        #expect(lists.count <= 2)
    }

    @Test("generated ids are 24 lower-case hex digits and do not repeat, on four threads at once")
    func generatedIDs() {
        let batches = Mutex<[[String]]>([])
        let threads = (0..<4).map { _ in
            Thread {
                let ids = (0..<25_000).map { _ in RequestIDs.generate() }
                batches.withLock { $0.append(ids) }
            }
        }
        threads.forEach { $0.start() }
        let deadline = Date().addingTimeInterval(30)
        while batches.withLock({ $0.count }) < 4, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let all = batches.withLock { $0.flatMap { $0 } }
        #expect(all.count == 100_000 && Set(all).count == all.count)
        #expect(all.allSatisfy { $0.utf8.count == 24 && $0.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) } })
        // Every hex digit shows up in every position: the bits are not stuck (a shifted or truncated word would be).
        for position in 0..<24 {
            let digits = Set(all.prefix(2_000).map { $0.utf8[$0.utf8.index($0.utf8.startIndex, offsetBy: position)] })
            #expect(digits.count == 16, "position \(position)")
        }
    }

    @Test("xoshiro256** matches the reference output for a known seed, and an all-zero seed still moves")
    func generatorReference() {
        // The reference implementation (prng.di.unimi.it/xoshiro256starstar.c) seeded with s = {1, 2, 3, 4}.
        let generator = Xoshiro256(seed: (1, 2, 3, 4))
        #expect(
            (0..<8).map { _ in generator.next() } == [
                11_520, 0, 1_509_978_240, 1_215_971_899_390_074_240, 1_216_172_134_540_287_360, 607_988_272_756_665_600,
                16_172_922_978_634_559_625, 8_476_171_486_693_032_832,
            ])
        let zero = Xoshiro256(seed: (0, 0, 0, 0))
        #expect(Set((0..<8).map { _ in zero.next() }).count > 1)
    }

    @Test(
        "the cookie reader finds every JSESSIONID in order, and nothing that only looks like one",
        arguments: [
            (["JSESSIONID=a; JSESSIONID=b"], ["a", "b"]),
            (["other=1;JSESSIONID=a;  JSESSIONID=b ; x=2"], ["a", "b "]),
            (["JSESSIONIDX=z; XJSESSIONID=y; JSESSIONID"], []),
            (["JSESSIONID="], [""]),
            (["a=1", "JSESSIONID=c"], ["c"]),
            // Split on the `;` byte (RFC 6265 reads octets): a combining mark after it starts the next pair's name.
            (["ä=ö; JSESSIONID=é;\u{301}JSESSIONID=d; JSESSIONID=e"], ["é", "e"]),
            ([";;; ;"], []),
        ])
    func cookies(headers: [String], expected: [String]) {
        var fields = HTTPFields()
        for header in headers { fields.append(HTTPField(name: .cookie, value: header)) }
        let request = Request(
            head: HTTPRequest(method: .get, scheme: "http", authority: "k", path: "/", headerFields: fields), body: .init(buffer: ByteBuffer()))
        #expect(Cookies.values(request, named: "JSESSIONID").map(String.init) == expected)
        #expect(Cookies.values(request, named: "JSESSIONID", limit: 1).map(String.init) == Array(expected.prefix(1)))
    }
}

@Suite("Log handler metadata")
struct LogHandlerMetadataTests {
    @Test("a key kept outside the dictionary reads, overwrites, removes and renders like any other")
    func singleKey() {
        var handler = KeygateLogHandler(label: "t", format: .text)
        #expect(handler.metadata.isEmpty)
        handler[metadataKey: "hb.request.id"] = "1"
        #expect(handler[metadataKey: "hb.request.id"] == "1" && handler.metadata == ["hb.request.id": "1"])
        handler[metadataKey: "hb.request.id"] = "2"
        handler[metadataKey: "other"] = "x"
        #expect(handler.metadata == ["hb.request.id": "2", "other": "x"])
        #expect(handler[metadataKey: "other"] == "x")
        handler[metadataKey: "hb.request.id"] = nil
        #expect(handler.metadata == ["other": "x"] && handler[metadataKey: "hb.request.id"] == nil)
        handler[metadataKey: "other"] = nil
        handler[metadataKey: "again"] = "y"
        #expect(handler.metadata == ["again": "y"])
        handler.metadata = ["a": "1", "b": "2"]
        #expect(handler.metadata == ["a": "1", "b": "2"] && handler[metadataKey: "again"] == nil)
        let line = TextLogHandler.line(
            event: LogEvent(level: .info, message: "m", metadata: nil, source: "s", file: "f", function: "g", line: 1),
            label: "t", metadata: handler.metadata)
        #expect(line.contains(" a=1 b=2 "))
    }
}

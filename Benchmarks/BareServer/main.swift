// The baseline for Keygate's benchmarks: Hummingbird answering the same bytes as `GET /api/v1/apiKeys`, with no
// session check, no database and no encryption. Keygate's figure divided by this one is the cost of Keygate.
// Usage: KeygateBareServer [port]; prints {"port": N} when listening.
import Foundation
import Hummingbird
import Logging

let body = ByteBuffer(
    string: #"[{"enabled":true,"id":1,"keyValue":"AbC123dEf456","lastModifiedBy":{"id":0,"name":"provider"},"lastModifiedTime":1795749071,"partnerUrl":"","permissions":[]}]"#
)
let router = Router()
router.get("bare") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body)) }
var logger = Logger(label: "bare")
logger.logLevel = .warning
let port = Int(CommandLine.arguments.dropFirst().first ?? "0") ?? 0
let app = Application(
    router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
    onServerRunning: { channel in
        print("{\"port\":\(channel.localAddress?.port ?? 0)}")
        fflush(nil)
    }, logger: logger)
try await app.runService()

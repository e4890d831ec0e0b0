import Foundation

/// The JSON body of a webhook event. Documented shape (docs/webhooks.md):
/// `{"id":"evt_…","type":"key.edited","createdAt":"2026-11-28T10:00:00Z","organization":{"id":7},
///   "actor":{"kind":"admin","id":3,"name":"Ann"},"data":{"summary":"API key 5 rotated (policy end)"}}`.
/// It holds no key, password, token or secret: `data.summary` is the audit trail's detail, which never does.
public enum WebhookPayload {
    /// A value in `data`.
    public enum Value: Sendable, Encodable {
        case string(String)
        case int(Int64)

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let s): try container.encode(s)
            case .int(let i): try container.encode(i)
            }
        }
    }

    private struct Body: Encodable {
        struct Organization: Encodable { let id: Int64 }
        struct Actor: Encodable {
            let kind: String
            let id: Int64?
            let name: String
        }
        let id: String
        let type: String
        let createdAt: String
        let organization: Organization
        let actor: Actor
        let data: [String: Value]
    }

    /// A new event id: `evt_` and 16 random bytes in hex.
    public static func newEventID() -> String {
        var rng = SystemRandomNumberGenerator()
        return "evt_" + Secrets.hex((0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    /// The body, sorted keys, no spaces.
    public static func json(id: String, type: WebhookEventType, at: Date, orgID: Int64, actor: ChangeActor, data: [String: Value]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = Body(
            id: id, type: type.rawValue, createdAt: at.formatted(.iso8601), organization: .init(id: orgID),
            actor: .init(kind: actor.kind, id: actor.adminID, name: actor.name), data: data)
        return (try? encoder.encode(body)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

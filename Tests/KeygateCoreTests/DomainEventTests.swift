import Foundation
import Testing

@testable import KeygateCore

@Suite("Domain events: what a change records is derived in one place")
struct DomainEventTests {
    let at = Date(timeIntervalSince1970: 1_800_000_000)
    let actor = ChangeActor.admin(id: 7, name: "ops@acme")

    @Test("every webhook event type but the two the domain sends itself stands for at least one action")
    func webhookCoverage() {
        let reported = Set(AuditAction.allCases.compactMap(\.webhookEvent))
        #expect(reported == Set(WebhookEventType.allCases).subtracting([.test, .sessionsEndedByRotation]))
        // Both password actions are one event to a receiver; who set it is the payload's actor.
        #expect(AuditAction.adminPasswordReset.webhookEvent == .adminPasswordChanged)
        #expect(AuditAction.roleUpdated.webhookEvent == nil && AuditAction.sessionCreated.webhookEvent == nil)
    }

    @Test("the key actions, and only they, count as key changes; the kinds are the raw values' first parts")
    func keyChangesAndKinds() {
        for action in AuditAction.allCases {
            #expect((action.keyChange != nil) == (action.kind == "key"))
        }
        #expect(AuditAction.kinds == ["key", "admin", "role", "session", "portal", "org", "webhook"])
    }

    @Test("an event's record: its audit row as given, and the webhook event its action stands for with the detail as summary")
    func record() throws {
        let edited = AuditEvent(orgID: 3, at: at, actor: actor, action: .keyEdited, detail: "API key 9 rotated")
        let record = edited.record
        #expect(record.audit == edited)
        #expect(record.outbox.map(\.type) == [.keyEdited])
        let payload = try #require(record.outbox.first)
        #expect(payload.orgID == 3 && payload.at == at && payload.id.hasPrefix("evt_"))
        let body = try JSONSerialization.jsonObject(with: Data(payload.payload.utf8)) as? [String: Any]
        #expect(body?["id"] as? String == payload.id && body?["type"] as? String == "key.edited")
        #expect((body?["data"] as? [String: Any])?["summary"] as? String == "API key 9 rotated")
        #expect(AuditEvent(orgID: 3, at: at, actor: actor, action: .roleCreated, detail: "").record.outbox.isEmpty)
    }

    @Test("a key change's record counts the sessions it ended; only a rotation that ended some sends sessions.ended_by_rotation")
    func keyChangeRecord() throws {
        func change(_ effect: KeyChange.SessionEffect, _ action: AuditAction) -> KeyChange {
            KeyChange(
                orgID: 3, operation: .replace(sealedValue: "sealed", expectedVersion: 1), sessionEffect: effect, actor: actor, at: at,
                action: action, detail: "API key 9 rotated")
        }
        let rotation = change(.rotate(policy: .endOldSessions, callerTokenHash: nil), .keyRegenerated)
        let ended = rotation.record(endedSessions: 4)
        #expect(ended.audit.detail == "API key 9 rotated; 4 session(s) ended" && ended.audit.action == .keyRegenerated)
        #expect(ended.outbox.map(\.type) == [.keyRegenerated, .sessionsEndedByRotation])
        let count = try JSONSerialization.jsonObject(with: Data(ended.outbox[1].payload.utf8)) as? [String: Any]
        #expect((count?["data"] as? [String: Any])?["count"] as? Int == 4)
        #expect(Set(ended.outbox.map(\.id)).count == 2)

        #expect(rotation.record(endedSessions: 0).outbox.map(\.type) == [.keyRegenerated])
        #expect(rotation.record(endedSessions: 0).audit.detail == "API key 9 rotated")
        // Ending every session (a delete) is not a rotation.
        #expect(change(.endAll, .keyDeleted).record(endedSessions: 2).outbox.map(\.type) == [.keyDeleted])
    }
}

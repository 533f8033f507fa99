package rights_test

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/moonlight-oss/moonlight/internal/notify"
)

// seedPeople adds, for both A and B, documents in the collections added
// for issue 15's remainder: attestations, profiles, saved filters, unmask
// requests and states, notices (A's own, one about A sent to A's manager,
// one sent to A about B, B's own) with their deliveries and the demo sink's
// mails, and idempotent answers.
func (w *rightsWorld) seedPeople() {
	ctx := w.t.Context()
	ins := func(coll string, docs ...bson.D) {
		for _, d := range docs {
			_, err := w.db.DB.Collection(coll).InsertOne(ctx, d)
			w.must(err)
		}
	}
	for _, p := range []struct{ id, other string }{{idA, idB}, {idB, idA}} {
		ins("attestations", bson.D{{Key: "_id", Value: "att-" + p.id}, {Key: "employee_id", Value: p.id}, {Key: "project_code", Value: "MS11"},
			{Key: "status", Value: "done"}, {Key: "updated_at", Value: w.now}})
		ins("profiles", bson.D{{Key: "_id", Value: p.id}, {Key: "language", Value: "zh"}})
		ins("ui_profiles", bson.D{{Key: "_id", Value: p.id}, {Key: "lang", Value: "zh"}, {Key: "time_zone", Value: "Asia/Shanghai"}, {Key: "updated_at", Value: w.now}})
		// A saved search naming someone's pseudonym.
		ins("saved_filters", bson.D{{Key: "_id", Value: "sf-" + p.id}, {Key: "user", Value: p.id}, {Key: "name", Value: "watch"},
			{Key: "query", Value: "subject=P-ABCD-EFGH&status=open"}, {Key: "at", Value: w.now}})
		ins("idempotency", bson.D{{Key: "_id", Value: "idem-" + p.id}, {Key: "owner", Value: p.id}, {Key: "request_hash", Value: "h"},
			{Key: "status", Value: 201}, {Key: "body", Value: []byte(`{"employee_id":"` + p.id + `"}`)}, {Key: "at", Value: w.now}})
	}
	ins("unmask_requests",
		bson.D{{Key: "_id", Value: "um-a"}, {Key: "case_id", Value: "case-a-open"}, {Key: "employee_id", Value: idA}, {Key: "requester", Value: reviewer},
			{Key: "reason", Value: "interview"}, {Key: "status", Value: "approved"}, {Key: "requested_at", Value: w.now}},
		bson.D{{Key: "_id", Value: "um-b"}, {Key: "case_id", Value: "case-b-confirmed"}, {Key: "employee_id", Value: idB}, {Key: "requester", Value: idA},
			{Key: "reason", Value: "interview"}, {Key: "status", Value: "approved"}, {Key: "requested_at", Value: w.now}})
	// A as a reviewer unmasked B's case: A's state of it must not name it.
	ins("unmask_states",
		bson.D{{Key: "_id", Value: idA}, {Key: "cases", Value: bson.D{{Key: "case-b-confirmed", Value: bson.D{{Key: "request", Value: "um-b"}, {Key: "status", Value: "approved"}}}}}},
		bson.D{{Key: "_id", Value: reviewer}, {Key: "cases", Value: bson.D{{Key: "case-a-open", Value: bson.D{{Key: "request", Value: "um-a"}, {Key: "status", Value: "approved"}}}}}})
	notice := func(id, recipient string, params bson.D) {
		ins("outbox", bson.D{{Key: "_id", Value: id}, {Key: "kind", Value: "declaration-submitted"}, {Key: "recipient", Value: recipient},
			{Key: "params", Value: params}, {Key: "created_at", Value: w.now}, {Key: "state", Value: "dispatched"}, {Key: "next_at", Value: w.now}})
	}
	notice("attestation-due:att-"+idA, idA, bson.D{{Key: "attestation_id", Value: "att-" + idA}})
	notice("declaration-submitted:D-"+idA+":v1:M9", "M9", bson.D{{Key: "employee_id", Value: idA}, {Key: "disclosure_id", Value: "D-" + idA}})
	notice("declaration-submitted:D-"+idB+":v1:"+idA, idA, bson.D{{Key: "employee_id", Value: idB}, {Key: "disclosure_id", Value: "D-" + idB}})
	notice("attestation-due:att-"+idB, idB, bson.D{{Key: "attestation_id", Value: "att-" + idB}})
	delivery := func(notice, channel, target string) string {
		id := notify.DeliveryID(notice, channel, target)
		ins("outbox_deliveries", bson.D{{Key: "_id", Value: id}, {Key: "notice_id", Value: notice}, {Key: "channel", Value: channel},
			{Key: "target", Value: target}, {Key: "state", Value: "sent"}, {Key: "attempts", Value: 1}, {Key: "next_at", Value: w.now}})
		ins("outbox_claims", bson.D{{Key: "_id", Value: id + "#0"}, {Key: "holder", Value: "replica-1"}, {Key: "at", Value: w.now}})
		return id
	}
	mail := func(delivery, to, subject string) {
		ins("mail_sink", bson.D{{Key: "_id", Value: "mail-" + notify.IdempotencyKey(delivery)}, {Key: "message_id", Value: "notice-" + notify.IdempotencyKey(delivery) + "@moonlight.example"},
			{Key: "to", Value: bson.A{to}}, {Key: "subject", Value: subject}, {Key: "body", Value: subject}, {Key: "received_at", Value: w.now}})
	}
	mail(delivery("attestation-due:att-"+idA, "email", "a@example.com"), "a@example.com", "你的确认任务")
	delivery("attestation-due:att-"+idA, "webhook", "https://hooks.example/secret-token")
	mail(delivery("declaration-submitted:D-"+idA+":v1:M9", "email", "m9@example.com"), "m9@example.com", nameA+" 提交了申报")
	mail(delivery("declaration-submitted:D-"+idB+":v1:"+idA, "email", "a@example.com"), "a@example.com", nameB+" 提交了申报")
	mail(delivery("attestation-due:att-"+idB, "email", "b@example.com"), "b@example.com", "你的确认任务")
}

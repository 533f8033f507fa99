package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/notify"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/smtpsink"
)

// mailSinkCollection keeps what the demo's SMTP sink received, so the admin
// page of any replica shows it. Every message received is kept, repeats
// included: the sink shows what was really sent.
const (
	mailSinkCollection = "mail_sink"
	profilesCollection = "profiles"
)

type sinkedMailDoc struct {
	ID         string    `bson:"_id"`
	MessageID  string    `bson:"message_id"`
	From       string    `bson:"from"`
	To         []string  `bson:"to"`
	Subject    string    `bson:"subject"`
	Body       string    `bson:"body"`
	ReceivedAt time.Time `bson:"received_at"`
}

// MailSink implements smtpsink.Store.
type MailSink struct{ coll *mongo.Collection }

var _ smtpsink.Store = (*MailSink)(nil)

// NewMailSink returns the sink's store on db.
func NewMailSink(db *DB) *MailSink { return &MailSink{coll: db.DB.Collection(mailSinkCollection)} }

// Add implements smtpsink.Store.
func (s *MailSink) Add(ctx context.Context, m smtpsink.Mail) error {
	d := sinkedMailDoc{ID: m.ID, MessageID: m.MessageID, From: m.From, To: m.To, Subject: m.Subject, Body: m.Body,
		ReceivedAt: storedTime(m.ReceivedAt)}
	if d.To == nil {
		d.To = []string{}
	}
	if _, err := s.coll.InsertOne(ctx, d); err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("store received mail: %w", err)
	}
	return nil
}

// Recent implements smtpsink.Store: newest first.
func (s *MailSink) Recent(ctx context.Context, limit int) ([]smtpsink.Mail, error) {
	docs, err := findAll[sinkedMailDoc](ctx, s.coll, bson.D{},
		options.Find().SetSort(bson.D{{Key: "received_at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("received mail: %w", err)
	}
	out := make([]smtpsink.Mail, len(docs))
	for i, d := range docs {
		out[i] = smtpsink.Mail{ID: d.ID, MessageID: d.MessageID, From: d.From, To: d.To, Subject: d.Subject, Body: d.Body,
			ReceivedAt: d.ReceivedAt.UTC()}
	}
	return out, nil
}

// NotifyPeople implements notify.People: the address from the HR
// projection, the language from the person's profile.
type NotifyPeople struct {
	Employees employee.Store
	profiles  *mongo.Collection
}

// NewNotifyPeople returns recipients from employees and the profiles on db.
func NewNotifyPeople(db *DB, employees employee.Store) *NotifyPeople {
	return &NotifyPeople{Employees: employees, profiles: db.DB.Collection(profilesCollection)}
}

type profileDoc struct {
	ID       string `bson:"_id"`
	Language string `bson:"language"`
}

// Person implements notify.People.
func (p *NotifyPeople) Person(ctx context.Context, id string) (notify.Person, bool, error) {
	e, err := p.Employees.Get(ctx, id)
	if errors.Is(err, employee.ErrNotFound) {
		return notify.Person{}, false, nil
	}
	if err != nil {
		return notify.Person{}, false, err
	}
	lang, err := p.Language(ctx, id)
	if err != nil {
		return notify.Person{}, false, err
	}
	return notify.Person{ID: id, Email: e.Email, Language: lang}, true, nil
}

// Language returns the language of id's profile, "" when none is set.
func (p *NotifyPeople) Language(ctx context.Context, id string) (string, error) {
	d, _, err := findByID[profileDoc](ctx, p.profiles, id)
	return d.Language, err
}

// SetLanguage sets the language of id's profile (one document by _id).
func (p *NotifyPeople) SetLanguage(ctx context.Context, id, lang string) error {
	_, err := p.profiles.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, profileDoc{ID: id, Language: lang},
		options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("set language of %s: %w", id, err)
	}
	return nil
}

// NotifySummary implements notify.CaseSummary and notify.Approvals on the
// cases and disclosures (once a day: scans are fine).
type NotifySummary struct {
	cases       *mongo.Collection
	disclosures *mongo.Collection
}

var (
	_ notify.CaseSummary = (*NotifySummary)(nil)
	_ notify.Approvals   = (*NotifySummary)(nil)
)

// NewNotifySummary returns it on db.
func NewNotifySummary(db *DB) *NotifySummary {
	return &NotifySummary{cases: db.DB.Collection(casesCollection), disclosures: db.DB.Collection(disclosuresCollection)}
}

// Summary implements notify.CaseSummary.
func (s *NotifySummary) Summary(ctx context.Context, since time.Time) (open, high, opened int, err error) {
	docs, err := findAll[struct {
		Severity string    `bson:"severity"`
		OpenedAt time.Time `bson:"opened_at"`
	}](ctx, s.cases, bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{review.StatusOpen, review.StatusInReview}}}}},
		options.Find().SetProjection(bson.D{{Key: "severity", Value: 1}, {Key: "opened_at", Value: 1}}))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("case summary: %w", err)
	}
	for _, d := range docs {
		open++
		if d.Severity == "high" {
			high++
		}
		if !d.OpenedAt.Before(since) {
			opened++
		}
	}
	return open, high, opened, nil
}

// Lapsing implements notify.Approvals.
func (s *NotifySummary) Lapsing(ctx context.Context, from, to civil.Date) ([]notify.Lapsing, error) {
	docs, err := findAll[disclosureDoc](ctx, s.disclosures, bson.D{{Key: "status", Value: string(disclosure.StatusApproved)},
		{Key: "valid_until", Value: bson.D{{Key: "$gte", Value: string(from)}, {Key: "$lte", Value: string(to)}}}})
	if err != nil {
		return nil, fmt.Errorf("approvals lapsing: %w", err)
	}
	var out []notify.Lapsing
	for _, d := range docs {
		renewed, err := s.disclosures.CountDocuments(ctx, bson.D{{Key: "renews", Value: d.ID},
			{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{string(disclosure.StatusPending), string(disclosure.StatusApproved)}}}}})
		if err != nil {
			return nil, fmt.Errorf("renewals of %s: %w", d.ID, err)
		}
		if renewed == 0 {
			out = append(out, notify.Lapsing{DisclosureID: d.ID, EmployeeID: d.EmployeeID, Kind: d.Kind,
				StartDate: civil.Date(d.StartDate), ValidUntil: civil.Date(d.ValidUntil)})
		}
	}
	return out, nil
}

package mongostore

import (
	"errors"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/explain"
	"github.com/moonlight-oss/moonlight/internal/profile"
)

// TestCaseStoresExplanationsAsData: a finding's explanation and a history
// line's note are stored as codes and typed parameters, no sentence; read
// back, they are what was written (the English summary derived).
func TestCaseStoresExplanationsAsData(t *testing.T) {
	db := newTestDB(t)
	s := NewCaseStore(db)
	ctx := t.Context()
	c := testCase("case-x", "E1001", "EV", "high", 40, detect.RuleExpense, "CITIC Securities")
	c.Findings[0].CounterpartyID = "citic-securities"
	c.Findings[0].Explanation = explain.Explanation{
		explain.C(explain.CodeExpenseMerchant).With("counterparty", explain.Counterparty("citic-securities", "CITIC Securities", "brokerage", "中信证券")).
			With("date", explain.Date("2024-01-10")).With("amount", explain.Money(moneyCNY("3000.00"))),
		explain.C(explain.CodeExpenseVocabulary).With("words", explain.List([]string{"研讨会", "咨询费"})),
		explain.C(explain.CodeCovered).With("disclosure", explain.Disclosure("D-1", "paid_seminar", "2024-01-10", "2024-01-11", "approved")),
	}
	c.Findings[0].Summary = explain.Plain(explain.EN, c.Findings[0].Explanation, nil)
	c.History[0].Note = explain.C(explain.CodeHistoryOpened).With("uncovered", explain.Int(1))
	if err := s.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Findings []bson.M `bson:"findings"`
	}
	if err := db.DB.Collection(casesCollection).FindOne(ctx, bson.D{{Key: "_id", Value: "case-x"}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	f := raw.Findings[0]
	if _, ok := f["summary"]; ok {
		t.Errorf("a finding with an explanation stores a sentence: %v", f["summary"])
	}
	if f["explanation"] == nil {
		t.Error("no explanation stored")
	}
	got, err := s.Get(ctx, "case-x")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Findings[0].Explanation, c.Findings[0].Explanation) {
		t.Errorf("explanation round trip:\n got  %+v\n want %+v", got.Findings[0].Explanation, c.Findings[0].Explanation)
	}
	if got.Findings[0].Summary != c.Findings[0].Summary || got.Findings[0].CounterpartyID != "citic-securities" {
		t.Errorf("summary %q, counterparty id %q", got.Findings[0].Summary, got.Findings[0].CounterpartyID)
	}
	if !reflect.DeepEqual(got.History[0].Note, c.History[0].Note) {
		t.Errorf("history note %+v, want %+v", got.History[0].Note, c.History[0].Note)
	}
}

func TestProfileStore(t *testing.T) {
	s := NewProfileStore(newTestDB(t))
	ctx := t.Context()
	if _, err := s.Get(ctx, "E1"); !errors.Is(err, profile.ErrNotFound) {
		t.Fatalf("no profile yet: %v", err)
	}
	for _, p := range []profile.Profile{{Subject: "E1", Lang: "zh-Hans", TimeZone: "Europe/London", UpdatedAt: caseT0},
		{Subject: "E1", Lang: "en", UpdatedAt: caseT0}} {
		if err := s.Save(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, "E1")
		if err != nil || got.Lang != p.Lang || got.TimeZone != p.TimeZone {
			t.Errorf("Get = %+v, %v; want %+v", got, err, p)
		}
	}
}

func moneyCNY(a string) event.Money { return event.Money{Amount: a, Currency: "CNY"} }

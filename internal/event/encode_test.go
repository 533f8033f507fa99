package event

import (
	"encoding/json"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
)

func TestEncodeRoundTrip(t *testing.T) {
	for _, typ := range Types {
		t.Run(typ, func(t *testing.T) {
			raw := build(t, typ, nil)
			e, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := Encode(e)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, err := Decode(enc)
			if err != nil {
				t.Fatalf("Decode(Encode(e)): %v\n%s", err, enc)
			}
			assertEvent(t, got, wantEvent(typ, enc))
			again, err := Encode(got)
			if err != nil || string(again) != string(enc) {
				t.Errorf("second Encode differs:\n%s\n%s (%v)", again, enc, err)
			}
		})
	}
}

// TestEncodeContractJSON checks the wire form: attribute names, amount as a decimal
// string beside currency, and no empty optional fields.
func TestEncodeContractJSON(t *testing.T) {
	e, err := New("expense/concur-cn", "C-1", time.Date(2023, 5, 8, 18, 30, 0, 0, time.FixedZone("", 8*3600)),
		&ExpenseClaim{ClaimID: "C-1", EmployeeID: "E1001", IncurredOn: civil.MustParse("2023-05-08"),
			Amount: Money{"3000", "CNY"}, Merchant: "GLG"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"specversion":"1.0","id":"C-1","source":"expense/concur-cn","type":"expense.claim.submitted",` +
		`"time":"2023-05-08T18:30:00+08:00","subject":"E1001","datacontenttype":"application/json",` +
		`"data":{"claim_id":"C-1","employee_id":"E1001","incurred_on":"2023-05-08","merchant":"GLG",` +
		`"amount":"3000","currency":"CNY"}}`
	if string(b) != want {
		t.Errorf("Encode =\n%s\nwant\n%s", b, want)
	}
}

func TestEncodeRejectsBadEvents(t *testing.T) {
	claim := func() *ExpenseClaim {
		return &ExpenseClaim{ClaimID: "C-1", EmployeeID: "E1", IncurredOn: "2023-05-08", Amount: Money{"1", "CNY"}, Merchant: "m"}
	}
	tests := []struct {
		name string
		give Event
		want string
	}{
		{name: "type mismatch", give: Event{Ref: Ref{"s", "1"}, Type: TypeEmployeeHired, Data: claim()}, want: "does not match"},
		{name: "no data", give: Event{Ref: Ref{"s", "1"}, Type: TypeExpenseClaim}, want: "does not match"},
		{name: "nil data", give: Event{Ref: Ref{"s", "1"}, Type: TypeExpenseClaim, Data: (*ExpenseClaim)(nil)}, want: "does not match"},
		{name: "data by value", give: Event{Ref: Ref{"s", "1"}, Type: TypeExpenseClaim, Data: *claim()}, want: "does not match"},
		{name: "no id", give: Event{Ref: Ref{"s", ""}, Type: TypeExpenseClaim, Data: claim()}, want: "invalid_envelope: /id"},
		{name: "missing field", give: Event{Ref: Ref{"s", "1"}, Type: TypeExpenseClaim, Data: func() any {
			c := claim()
			c.Merchant = ""
			return c
		}()}, want: "/data/merchant"},
		{name: "bad date", give: Event{Ref: Ref{"s", "1"}, Type: TypeExpenseClaim, Data: func() any {
			c := claim()
			c.IncurredOn = "2023-02-30"
			return c
		}()}, want: "bad_date"},
		{name: "bad amount", give: Event{Ref: Ref{"s", "1"}, Type: TypeExpenseClaim, Data: func() any {
			c := claim()
			c.Amount.Amount = "1,000"
			return c
		}()}, want: "bad_amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Encode(tt.give)
			if err == nil {
				t.Fatalf("Encode = %s, want error", b)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	at := time.Date(2023, 5, 8, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		give        any
		wantType    string
		wantSubject string
		wantKey     string
	}{
		{give: &EmployeeHired{EmployeeID: "E1"}, wantType: TypeEmployeeHired, wantSubject: "E1", wantKey: "E1"},
		{give: &CardTransaction{EmployeeID: "E2"}, wantType: TypeCardTransaction, wantSubject: "E2", wantKey: "E2"},
		{give: &SeminarReported{SeminarID: "S1"}, wantType: TypeSeminarReported, wantSubject: "", wantKey: "S1"},
	}
	for _, tt := range tests {
		e, err := New("src", "id", at, tt.give)
		if err != nil {
			t.Fatal(err)
		}
		if e.Type != tt.wantType || e.Subject != tt.wantSubject || e.PartitionKey() != tt.wantKey || !e.Time.Equal(at) {
			t.Errorf("New(%T) = type %q subject %q key %q; want %q %q %q",
				tt.give, e.Type, e.Subject, e.PartitionKey(), tt.wantType, tt.wantSubject, tt.wantKey)
		}
	}
	if _, err := New("src", "id", at, EmployeeHired{}); err == nil {
		t.Error("New accepted data by value")
	}
}

// TestMoneyJSON: the expense types read and write the contract form with encoding/json too.
func TestMoneyJSON(t *testing.T) {
	var c ExpenseClaim
	if err := json.Unmarshal([]byte(`{"claim_id":"C","amount":12.50,"currency":"USD"}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.ClaimID != "C" || c.Amount != (Money{"12.50", "USD"}) {
		t.Errorf("Unmarshal = %+v", c)
	}
	var tx CardTransaction
	if err := json.Unmarshal([]byte(`{"transaction_id":"T","amount":"0012","currency":"EUR"}`), &tx); err != nil {
		t.Fatal(err)
	}
	if tx.TransactionID != "T" || tx.Amount != (Money{"12", "EUR"}) {
		t.Errorf("Unmarshal = %+v", tx)
	}
	b, err := json.Marshal(tx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"amount":"12","currency":"EUR"`) {
		t.Errorf("Marshal = %s", b)
	}
	if err := json.Unmarshal([]byte(`{"amount":"3,000"}`), &tx); err == nil {
		t.Error("Unmarshal accepted amount 3,000")
	}
}

// TestSchemasMatchContract checks the shipped schemas against the contract as written in
// the tests: one per type, draft 2020-12, the required fields, and extra fields allowed.
func TestSchemasMatchContract(t *testing.T) {
	files, err := fs.Glob(Schemas(), "*.json")
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{"defs.json", "envelope.json"}
	for _, typ := range Types {
		wantFiles = append(wantFiles, typ+".json")
	}
	slices.Sort(wantFiles)
	if !slices.Equal(files, wantFiles) {
		t.Errorf("schema files = %v, want %v", files, wantFiles)
	}
	read := func(name string) map[string]any {
		b, err := fs.ReadFile(Schemas(), name)
		if err != nil {
			t.Fatal(err)
		}
		var s map[string]any
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" || s["$id"] != schemaBase+name {
			t.Errorf("%s: $schema %v, $id %v", name, s["$schema"], s["$id"])
		}
		return s
	}
	strs := func(v any) []string {
		var out []string
		for _, x := range v.([]any) {
			out = append(out, x.(string))
		}
		slices.Sort(out)
		return out
	}
	for _, typ := range Types {
		s := read(typ + ".json")
		want := slices.Sorted(slices.Values(required[typ]))
		if got := strs(s["required"]); !slices.Equal(got, want) {
			t.Errorf("%s: required %v, want %v", typ, got, want)
		}
		if _, ok := s["additionalProperties"]; ok {
			t.Errorf("%s: sets additionalProperties; unknown fields must be ignored", typ)
		}
	}
	env := read("envelope.json")
	if got := strs(env["required"]); !reflect.DeepEqual(got, []string{"data", "id", "source", "specversion", "type"}) {
		t.Errorf("envelope: required %v", got)
	}
	read("defs.json")
}

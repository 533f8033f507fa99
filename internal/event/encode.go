package event

import (
	"encoding/json"
	"fmt"
	"time"
)

// envelope is the JSON form of an event, in the contract's attribute order.
type envelope struct {
	SpecVersion     string `json:"specversion"`
	ID              string `json:"id"`
	Source          string `json:"source"`
	Type            string `json:"type"`
	Time            string `json:"time,omitempty"`
	Subject         string `json:"subject,omitempty"`
	DataContentType string `json:"datacontenttype"`
	Data            any    `json:"data"`
}

// Encode returns e as contract JSON (CloudEvents 1.0 structured mode). e.Raw is ignored.
// The result is checked with Decode, so Encode never produces an event that consumers
// would reject: a missing required field, a bad date or amount, or Data that does not
// match Type is an error. For every e that Decode returned, Decode(Encode(e)) equals e
// apart from Raw.
func Encode(e Event) ([]byte, error) {
	if want, ok := TypeOf(e.Data); !ok || want != e.Type {
		return nil, fmt.Errorf("encode event %s: data %T does not match type %q", e.ID, e.Data, e.Type)
	}
	env := envelope{
		SpecVersion:     "1.0",
		ID:              e.ID,
		Source:          e.Source,
		Type:            e.Type,
		Subject:         e.Subject,
		DataContentType: "application/json",
		Data:            e.Data,
	}
	if !e.Time.IsZero() {
		env.Time = e.Time.Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	if _, err := Decode(b); err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	return b, nil
}

// New returns an event of the type that data (a pointer to one of the *Data types) has,
// with the subject the contract asks for: the employee id, none for intel events.
func New(source, id string, at time.Time, data any) (Event, error) {
	typ, ok := TypeOf(data)
	if !ok {
		return Event{}, fmt.Errorf("new event %s: %T is not event data", id, data)
	}
	e := Event{Ref: Ref{Source: source, ID: id}, Type: typ, Time: at, Data: data}
	e.Subject = e.EmployeeID()
	return e, nil
}

// TypeOf returns the event type whose data data is; data must be a non-nil pointer to
// one of the *Data types.
func TypeOf(data any) (string, bool) {
	var typ string
	var isNil bool
	switch d := data.(type) {
	case *EmployeeHired:
		typ, isNil = TypeEmployeeHired, d == nil
	case *EmployeeUpdated:
		typ, isNil = TypeEmployeeUpdated, d == nil
	case *EmployeeTerminated:
		typ, isNil = TypeEmployeeTerminated, d == nil
	case *ProjectAssigned:
		typ, isNil = TypeProjectAssigned, d == nil
	case *ProjectUnassigned:
		typ, isNil = TypeProjectUnassigned, d == nil
	case *LeaveRecorded:
		typ, isNil = TypeLeaveRecorded, d == nil
	case *ExpenseClaim:
		typ, isNil = TypeExpenseClaim, d == nil
	case *CardTransaction:
		typ, isNil = TypeCardTransaction, d == nil
	case *SeminarReported:
		typ, isNil = TypeSeminarReported, d == nil
	default:
		return "", false
	}
	return typ, !isNil
}

// The expense types keep Money as one field, while the contract puts amount and currency
// side by side in data; these methods give them the contract's JSON form.

type (
	expenseClaimJSON    ExpenseClaim // without methods, so Marshal does not recurse
	cardTransactionJSON CardTransaction
)

// MarshalJSON writes the contract form, with amount as a decimal string.
func (c ExpenseClaim) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		expenseClaimJSON
		Amount   string `json:"amount"`
		Currency string `json:"currency"`
	}{expenseClaimJSON(c), c.Amount.Amount, c.Amount.Currency})
}

// UnmarshalJSON reads the contract form; amount may be a string or a number. It checks
// only the amount; Decode is the validating reader.
func (c *ExpenseClaim) UnmarshalJSON(b []byte) error {
	var v struct {
		*expenseClaimJSON
		Amount   json.RawMessage `json:"amount"`
		Currency string          `json:"currency"`
	}
	v.expenseClaimJSON = (*expenseClaimJSON)(c)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	m, err := money(v.Amount, v.Currency)
	c.Amount = m
	return err
}

// MarshalJSON writes the contract form, with amount as a decimal string.
func (t CardTransaction) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		cardTransactionJSON
		Amount   string `json:"amount"`
		Currency string `json:"currency"`
	}{cardTransactionJSON(t), t.Amount.Amount, t.Amount.Currency})
}

// UnmarshalJSON reads the contract form; amount may be a string or a number. It checks
// only the amount; Decode is the validating reader.
func (t *CardTransaction) UnmarshalJSON(b []byte) error {
	var v struct {
		*cardTransactionJSON
		Amount   json.RawMessage `json:"amount"`
		Currency string          `json:"currency"`
	}
	v.cardTransactionJSON = (*cardTransactionJSON)(t)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	m, err := money(v.Amount, v.Currency)
	t.Amount = m
	return err
}

// money reads a contract amount, a JSON string or number, beside its currency.
func money(amount json.RawMessage, currency string) (Money, error) {
	if len(amount) == 0 {
		return Money{Currency: currency}, nil
	}
	text := string(amount)
	if amount[0] == '"' {
		if err := json.Unmarshal(amount, &text); err != nil {
			return Money{}, fmt.Errorf("amount: %w", err)
		}
	}
	a, ok := canonicalDecimal(text)
	if !ok {
		return Money{}, fmt.Errorf("amount is not a decimal")
	}
	return Money{Amount: a, Currency: currency}, nil
}

package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/moonlight-oss/moonlight/internal/civil"
)

// MaxEventBytes is the default size limit of one event (one Kafka message value).
const MaxEventBytes = 1 << 20

// Reasons of a DecodeError: short codes for the dead-letter x-error header and metrics.
const (
	ReasonTooLarge        = "too_large"         // bigger than the decoder's limit
	ReasonInvalidUTF8     = "invalid_utf8"      // not UTF-8 (JSON text must be)
	ReasonMalformedJSON   = "malformed_json"    // not one JSON value
	ReasonInvalidEnvelope = "invalid_envelope"  // not a CloudEvents 1.0 envelope of the contract
	ReasonUnknownType     = "unknown_type"      // type is not one of Types
	ReasonInvalidData     = "invalid_data"      // data misses a required field or has a wrong type or value
	ReasonBadDate         = "bad_date"          // a date is not a real YYYY-MM-DD calendar date
	ReasonBadTime         = "bad_time"          // an instant is not RFC 3339
	ReasonBadAmount       = "bad_amount"        // amount is not a decimal
	ReasonDateOutOfRange  = "date_out_of_range" // a date or instant before 1990 or too far after receipt
	ReasonFieldTooLong    = "field_too_long"    // a text or array longer than the contract allows
	// Set by the consumer, which knows the topic: the decoder does not.
	ReasonWrongTopic       = "wrong_topic"        // the type's prefix is not the topic's
	ReasonSourceNotAllowed = "source_not_allowed" // the topic is limited to other sources
)

// DecodeError says why an event is bad. Every DecodeError is permanent: the same bytes
// always fail the same way, so the message belongs in the dead-letter topic, not a retry.
type DecodeError struct {
	Reason string // one of the Reason* codes
	// Detail names the failing fields by JSON pointer. It never quotes payload values,
	// which are personal data, so it is safe for headers and logs.
	Detail string
}

func (e *DecodeError) Error() string { return e.Reason + ": " + e.Detail }

// IsBadEvent reports whether err, or an error it wraps, says the input is a bad event.
func IsBadEvent(err error) bool {
	var de *DecodeError
	return errors.As(err, &de)
}

// Decoder decodes and validates events against the contract. It holds no mutable state
// and is safe for concurrent use.
type Decoder struct {
	maxBytes int
	schemas  *schemaSet
}

// NewDecoder returns a decoder that rejects values longer than maxBytes
// (MaxEventBytes when maxBytes <= 0). It compiles the embedded schemas on first use.
func NewDecoder(maxBytes int) *Decoder {
	if maxBytes <= 0 {
		maxBytes = MaxEventBytes
	}
	return &Decoder{maxBytes: maxBytes, schemas: compiledSchemas()}
}

// MaxBytes is the size limit of the decoder.
func (d *Decoder) MaxBytes() int { return d.maxBytes }

// Decode decodes raw with the default limit, MaxEventBytes, received now.
// See Decoder.Decode.
func Decode(raw []byte) (Event, error) {
	return defaultDecoder().Decode(raw)
}

// DecodeAt is Decode for an event received at receivedAt.
func DecodeAt(raw []byte, receivedAt time.Time) (Event, error) {
	return defaultDecoder().DecodeAt(raw, receivedAt)
}

var defaultDecoder = sync.OnceValue(func() *Decoder { return NewDecoder(MaxEventBytes) })

// Decode is DecodeAt for an event received now.
func (d *Decoder) Decode(raw []byte) (Event, error) {
	return d.DecodeAt(raw, time.Now())
}

// DecodeAt checks raw, a structured-mode event received at receivedAt, against the
// contract and returns the typed event. The checks run cheapest first: size, UTF-8, JSON
// syntax, envelope schema, type, data schema, then the typed values (calendar dates,
// instants, amounts) and the date bounds, which depend on receivedAt. Any failure is a
// *DecodeError. The returned Event.Raw is raw itself, not a copy.
func (d *Decoder) DecodeAt(raw []byte, receivedAt time.Time) (Event, error) {
	if err := d.checkBytes(raw); err != nil {
		return Event{}, err
	}
	doc, err := parseJSON(raw)
	if err != nil {
		return Event{}, err
	}
	return d.decodeDoc(doc, raw, receivedAt)
}

// checkBytes applies the size limit and the UTF-8 check.
func (d *Decoder) checkBytes(raw []byte) error {
	if len(raw) > d.maxBytes {
		return &DecodeError{ReasonTooLarge, fmt.Sprintf("%d bytes, limit %d", len(raw), d.maxBytes)}
	}
	// encoding/json would quietly turn invalid bytes into U+FFFD and store a changed text.
	if !utf8.Valid(raw) {
		return &DecodeError{ReasonInvalidUTF8, fmt.Sprintf("invalid UTF-8 at byte offset %d", invalidUTF8At(raw))}
	}
	return nil
}

// decodeDoc validates a parsed structured-mode envelope; raw becomes Event.Raw.
func (d *Decoder) decodeDoc(doc any, raw []byte, receivedAt time.Time) (Event, error) {
	var err error
	if err := d.schemas.envelope.Validate(doc); err != nil {
		return Event{}, schemaError(err, "", ReasonInvalidEnvelope)
	}
	env := doc.(map[string]any) // the envelope schema requires an object
	typ := env["type"].(string)
	sch, ok := d.schemas.data[typ]
	if !ok {
		return Event{}, &DecodeError{ReasonUnknownType, "/type: not a type of the contract"}
	}
	data := env["data"].(map[string]any)
	if err := sch.Validate(data); err != nil {
		return Event{}, schemaError(err, "/data", ReasonInvalidData)
	}

	e := Event{
		Ref:  Ref{Source: env["source"].(string), ID: env["id"].(string)},
		Type: typ,
		Raw:  raw,
	}
	e.Subject, _ = env["subject"].(string)
	if s, ok := env["time"].(string); ok {
		if e.Time, err = parseInstant(s); err != nil {
			return Event{}, &DecodeError{ReasonBadTime, "/time: not an RFC 3339 instant"}
		}
	}
	f := fields{m: data}
	e.Data = f.typed(typ)
	if f.err != nil {
		return Event{}, f.err
	}
	if err := checkDates(d.schemas.envelopeDates, env, "", receivedAt); err != nil {
		return Event{}, err
	}
	if err := checkDates(d.schemas.dates[typ], data, "/data", receivedAt); err != nil {
		return Event{}, err
	}
	return e, nil
}

// checkDates applies the schemas' date bounds to the fields of obj, which have
// passed their schema (so they parse). The upper bound is counted from the
// receipt's calendar date in UTC for dates, from the receipt instant for
// instants.
func checkDates(bounds []dateBound, obj map[string]any, prefix string, receivedAt time.Time) error {
	for _, b := range bounds {
		s, ok := obj[b.key].(string)
		if !ok {
			continue
		}
		early, late := false, false
		if b.instant {
			t, err := parseInstant(s)
			if err != nil {
				continue // reported by the typed read
			}
			early = t.Before(b.earliest.Time())
			late = t.After(receivedAt.AddDate(b.yearsAfter, 0, 0))
		} else {
			v := civil.Date(s)
			early = v.Before(b.earliest)
			late = v.After(civil.Of(receivedAt.UTC().AddDate(b.yearsAfter, 0, 0)))
		}
		ptr := prefix + "/" + escapeToken(b.key)
		switch {
		case early:
			return &DecodeError{ReasonDateOutOfRange, fmt.Sprintf("%s: before %s", ptr, b.earliest)}
		case late:
			return &DecodeError{ReasonDateOutOfRange, fmt.Sprintf("%s: more than %d years after receipt", ptr, b.yearsAfter)}
		}
	}
	return nil
}

// parseJSON parses exactly one JSON value, keeping numbers as json.Number so amounts keep
// every digit.
func parseJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, &DecodeError{ReasonMalformedJSON, syntaxDetail(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &DecodeError{ReasonMalformedJSON, fmt.Sprintf("data after the JSON value at byte offset %d", dec.InputOffset())}
	}
	return doc, nil
}

// syntaxDetail describes a JSON syntax error by position only: encoding/json's own message
// quotes the offending character.
func syntaxDetail(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte offset %d", se.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	}
	return "not a JSON value"
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// parseInstant parses an RFC 3339 instant, keeping its UTC offset. RFC 3339 allows a
// lower-case "t" and "z", which time.Parse does not.
func parseInstant(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, strings.ToUpper(s))
}

// fields reads typed values from a data object that has passed its schema. The checks
// here are the ones a schema cannot make, plus defence against schema drift. The first
// failure is kept in err; later reads are no-ops.
type fields struct {
	m   map[string]any
	err *DecodeError
}

func (f *fields) fail(reason, key, problem string) {
	if f.err == nil {
		f.err = &DecodeError{reason, "/data/" + escapeToken(key) + ": " + problem}
	}
}

func (f *fields) str(key string) string {
	v, ok := f.m[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		f.fail(ReasonInvalidData, key, "want string")
	}
	return s
}

// optStr is str that tells an absent field (nil) from an empty one.
func (f *fields) optStr(key string) *string {
	if _, ok := f.m[key]; !ok {
		return nil
	}
	s := f.str(key)
	return &s
}

func (f *fields) date(key string) civil.Date {
	s := f.str(key)
	if s == "" {
		return ""
	}
	d, err := civil.Parse(s)
	if err != nil {
		f.fail(ReasonBadDate, key, "not a YYYY-MM-DD calendar date")
	}
	return d
}

func (f *fields) instant(key string) time.Time {
	t, err := parseInstant(f.str(key))
	if err != nil {
		f.fail(ReasonBadTime, key, "not an RFC 3339 instant")
	}
	return t
}

func (f *fields) money() Money {
	var amount string
	var ok bool
	switch v := f.m["amount"].(type) {
	case string:
		amount, ok = canonicalDecimal(v)
	case json.Number:
		amount, ok = canonicalDecimal(string(v))
	}
	if !ok {
		f.fail(ReasonBadAmount, "amount", "not a decimal")
	}
	return Money{Amount: amount, Currency: f.str("currency")}
}

// strs reads an array of strings; an empty array is nil, as if absent.
func (f *fields) strs(key string) []string {
	arr, _ := f.m[key].([]any)
	if len(arr) == 0 {
		return nil
	}
	out := make([]string, len(arr))
	for i, v := range arr {
		s, ok := v.(string)
		if !ok {
			f.fail(ReasonInvalidData, key, "want array of strings")
			return nil
		}
		out[i] = s
	}
	return out
}

func (f *fields) boolPtr(key string) *bool {
	v, ok := f.m[key]
	if !ok {
		return nil
	}
	b, ok := v.(bool)
	if !ok {
		f.fail(ReasonInvalidData, key, "want boolean")
		return nil
	}
	return &b
}

// typed builds the *Data value of type typ.
func (f *fields) typed(typ string) any {
	switch typ {
	case TypeEmployeeHired:
		return &EmployeeHired{
			EmployeeID: f.str("employee_id"),
			Name:       f.str("name"),
			Email:      f.str("email"),
			Department: f.str("department"),
			Title:      f.str("title"),
			ManagerID:  f.str("manager_id"),
			Location:   f.str("location"),
			HireDate:   f.date("hire_date"),
		}
	case TypeEmployeeUpdated:
		return &EmployeeUpdated{
			EmployeeID:    f.str("employee_id"),
			EffectiveDate: f.date("effective_date"),
			Name:          f.optStr("name"),
			Email:         f.optStr("email"),
			Department:    f.optStr("department"),
			Title:         f.optStr("title"),
			ManagerID:     f.optStr("manager_id"),
			Location:      f.optStr("location"),
		}
	case TypeEmployeeTerminated:
		return &EmployeeTerminated{
			EmployeeID:      f.str("employee_id"),
			TerminationDate: f.date("termination_date"),
			Reason:          f.str("reason"),
		}
	case TypeProjectAssigned:
		return &ProjectAssigned{
			EmployeeID:    f.str("employee_id"),
			ProjectCode:   f.str("project_code"),
			ProjectName:   f.str("project_name"),
			Sensitivity:   f.str("sensitivity"),
			LaunchDate:    f.date("launch_date"),
			EffectiveDate: f.date("effective_date"),
		}
	case TypeProjectUnassigned:
		return &ProjectUnassigned{
			EmployeeID:    f.str("employee_id"),
			ProjectCode:   f.str("project_code"),
			EffectiveDate: f.date("effective_date"),
		}
	case TypeLeaveRecorded:
		return &LeaveRecorded{
			EmployeeID: f.str("employee_id"),
			LeaveID:    f.str("leave_id"),
			StartDate:  f.date("start_date"),
			EndDate:    f.date("end_date"),
			LeaveType:  f.str("leave_type"),
		}
	case TypeExpenseClaim:
		return &ExpenseClaim{
			ClaimID:     f.str("claim_id"),
			EmployeeID:  f.str("employee_id"),
			IncurredOn:  f.date("incurred_on"),
			Amount:      f.money(),
			Merchant:    f.str("merchant"),
			Category:    f.str("category"),
			Description: f.str("description"),
			City:        f.str("city"),
			Attendees:   f.strs("attendees"),
		}
	case TypeCardTransaction:
		return &CardTransaction{
			TransactionID: f.str("transaction_id"),
			EmployeeID:    f.str("employee_id"),
			OccurredAt:    f.instant("occurred_at"),
			Amount:        f.money(),
			Merchant:      f.str("merchant"),
			MCC:           f.str("mcc"),
			City:          f.str("city"),
		}
	case TypeSeminarReported:
		return &SeminarReported{
			SeminarID:          f.str("seminar_id"),
			Organizer:          f.str("organizer"),
			Title:              f.str("title"),
			Date:               f.date("date"),
			City:               f.str("city"),
			Paid:               f.boolPtr("paid"),
			SpeakerDescriptors: f.strs("speaker_descriptors"),
			SourceURL:          f.str("source_url"),
		}
	}
	f.err = &DecodeError{ReasonUnknownType, "/type: not a type of the contract"}
	return nil
}

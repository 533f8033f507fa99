package event

import (
	"bytes"
	"encoding/json"
	"mime"
	"strings"
	"time"
	"unicode/utf8"
)

// Header is one Kafka message header.
type Header struct {
	Key   string
	Value []byte
}

// The CloudEvents attributes the contract knows, as binary-mode Kafka headers
// (CloudEvents Kafka protocol binding: "ce_" + attribute name).
var binaryAttributes = []string{"specversion", "id", "source", "type", "time", "subject"}

// Content modes of the CloudEvents Kafka binding.
const (
	ModeStructured = "structured"
	ModeBinary     = "binary"
)

// ModeOf tells a message's content mode by its headers, as the Kafka binding
// says: content-type application/cloudevents... is structured; otherwise a
// ce_specversion header means binary. A message with neither is taken as
// structured, which is how producers without headers have always sent it.
func ModeOf(headers []Header) string {
	if ct, ok := header(headers, "content-type"); ok && strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/cloudevents") {
		return ModeStructured
	}
	if _, ok := header(headers, "ce_specversion"); ok {
		return ModeBinary
	}
	return ModeStructured
}

// DecodeMessage decodes a Kafka message value with its headers, in either
// content mode, received at receivedAt. Both modes give the same Event for the
// same event: in binary mode, Event.Raw is the equivalent structured-mode
// envelope (the attributes and the data bytes as sent), so stored events are
// one shape whatever the producer's mode and dedupe on (source, id) alike.
func (d *Decoder) DecodeMessage(value []byte, headers []Header, receivedAt time.Time) (Event, error) {
	if ModeOf(headers) == ModeStructured {
		if ct, ok := header(headers, "content-type"); ok && strings.HasPrefix(strings.ToLower(ct), "application/cloudevents-batch") {
			return Event{}, &DecodeError{ReasonInvalidEnvelope, "content-type: batched mode is not accepted"}
		}
		return d.DecodeAt(value, receivedAt)
	}
	if err := d.checkBytes(value); err != nil {
		return Event{}, err
	}
	if ct, ok := header(headers, "content-type"); ok && !isJSONType(ct) {
		return Event{}, &DecodeError{ReasonInvalidEnvelope, "content-type: data must be application/json"}
	}
	env := envelopeHeaders{}
	for _, a := range binaryAttributes {
		v, ok := header(headers, "ce_"+a)
		if !ok {
			continue
		}
		if !utf8.ValidString(v) {
			return Event{}, &DecodeError{ReasonInvalidUTF8, "header ce_" + a + ": not UTF-8"}
		}
		env[a] = v
	}
	data, err := parseJSON(value)
	if err != nil {
		return Event{}, err
	}
	doc := make(map[string]any, len(env)+2)
	for k, v := range env {
		doc[k] = v
	}
	doc["datacontenttype"] = "application/json"
	doc["data"] = data
	raw, err := structuredOf(env, value)
	if err != nil {
		return Event{}, err
	}
	return d.decodeDoc(doc, raw, receivedAt)
}

// envelopeHeaders are the binary-mode attributes by name.
type envelopeHeaders map[string]string

// structuredOf builds the structured-mode envelope of a binary-mode event,
// keeping the data bytes exactly as sent (compacted, so the JSON is one line).
func structuredOf(env envelopeHeaders, data []byte) ([]byte, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, &DecodeError{ReasonMalformedJSON, "not a JSON value"}
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for _, a := range binaryAttributes {
		v, ok := env[a]
		if !ok {
			continue
		}
		k, _ := json.Marshal(a)
		s, _ := json.Marshal(v)
		b.Write(k)
		b.WriteByte(':')
		b.Write(s)
		b.WriteByte(',')
	}
	b.WriteString(`"datacontenttype":"application/json","data":`)
	b.Write(compact.Bytes())
	b.WriteByte('}')
	return b.Bytes(), nil
}

func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// header returns the last value of the header named key (case-insensitively:
// Kafka header names are case-sensitive, but producers differ on Content-Type).
func header(headers []Header, key string) (string, bool) {
	var v string
	found := false
	for _, h := range headers {
		if strings.EqualFold(h.Key, key) {
			v, found = string(h.Value), true
		}
	}
	return v, found
}

package event_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/cloudevents/sdk-go/protocol/kafka_sarama/v2"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"

	"github.com/moonlight-oss/moonlight/internal/event"
)

// sdkEvent is an expense claim built with the official CloudEvents SDK.
func sdkEvent(t *testing.T) cloudevents.Event {
	t.Helper()
	ce := cloudevents.NewEvent()
	ce.SetID("c-77")
	ce.SetSource("expense/concur-cn")
	ce.SetType(event.TypeExpenseClaim)
	ce.SetSubject("E1001")
	ce.SetTime(time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC))
	if err := ce.SetData(cloudevents.ApplicationJSON, map[string]any{
		"claim_id": "C-77", "employee_id": "E1001", "incurred_on": "2024-02-20", "amount": "3000.00",
		"currency": "CNY", "merchant": "凯盛融英信息科技(上海)股份有限公司", "description": "专家访谈咨询费",
	}); err != nil {
		t.Fatal(err)
	}
	return ce
}

// sdkKafka encodes ce as the SDK's Kafka binding does, in binary mode (its
// default) or structured mode.
func sdkKafka(t *testing.T, ce cloudevents.Event, structured bool) ([]byte, []event.Header) {
	t.Helper()
	ctx := context.Background()
	if structured {
		ctx = binding.WithForceStructured(ctx)
	}
	var pm sarama.ProducerMessage
	if err := kafka_sarama.WriteProducerMessage(ctx, binding.ToMessage(&ce), &pm); err != nil {
		t.Fatal(err)
	}
	value, err := pm.Value.Encode()
	if err != nil {
		t.Fatal(err)
	}
	hs := make([]event.Header, len(pm.Headers))
	for i, h := range pm.Headers {
		hs[i] = event.Header{Key: string(h.Key), Value: h.Value}
	}
	return value, hs
}

func TestDecodeSDKEventsInBothModes(t *testing.T) {
	received := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	ce := sdkEvent(t)
	binValue, binHeaders := sdkKafka(t, ce, false)
	strValue, strHeaders := sdkKafka(t, ce, true)
	if event.ModeOf(binHeaders) != event.ModeBinary || event.ModeOf(strHeaders) != event.ModeStructured {
		t.Fatalf("modes: binary headers %v, structured headers %v", binHeaders, strHeaders)
	}
	d := event.NewDecoder(0)
	bin, err := d.DecodeMessage(binValue, binHeaders, received)
	if err != nil {
		t.Fatalf("binary mode: %v", err)
	}
	str, err := d.DecodeMessage(strValue, strHeaders, received)
	if err != nil {
		t.Fatalf("structured mode: %v", err)
	}
	if bin.Ref != (event.Ref{Source: "expense/concur-cn", ID: "c-77"}) || bin.Ref.Key() != str.Ref.Key() {
		t.Fatalf("refs differ: binary %+v, structured %+v", bin.Ref, str.Ref)
	}
	if !bin.Time.Equal(str.Time) || bin.Subject != "E1001" || !reflect.DeepEqual(bin.Data, str.Data) || bin.Type != str.Type {
		t.Fatalf("the modes decode differently:\n binary     %+v\n structured %+v", bin, str)
	}
	// A binary-mode event is kept as its structured envelope, which decodes
	// to the same event (stored events are re-read with Decode).
	again, err := event.DecodeAt(bin.Raw, received)
	if err != nil {
		t.Fatalf("structured form of the binary event: %v\n%s", err, bin.Raw)
	}
	again.Raw = bin.Raw
	if !reflect.DeepEqual(again, bin) {
		t.Fatalf("re-decoded %+v, want %+v", again, bin)
	}
	if !strings.Contains(string(bin.Raw), `"description":"专家访谈咨询费"`) {
		t.Errorf("data bytes not kept: %s", bin.Raw)
	}
}

func TestDecodeBinaryModeBad(t *testing.T) {
	received := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	value, headers := sdkKafka(t, sdkEvent(t), false)
	without := func(key string) []event.Header {
		var out []event.Header
		for _, h := range headers {
			if h.Key != key {
				out = append(out, h)
			}
		}
		return out
	}
	with := func(key, v string) []event.Header {
		return append(without(key), event.Header{Key: key, Value: []byte(v)})
	}
	tests := []struct {
		name       string
		value      []byte
		headers    []event.Header
		wantReason string
		wantDetail string
	}{
		{"no id", value, without("ce_id"), event.ReasonInvalidEnvelope, "missing /id"},
		{"no source", value, without("ce_source"), event.ReasonInvalidEnvelope, "missing /source"},
		{"no type", value, without("ce_type"), event.ReasonInvalidEnvelope, "missing /type"},
		{"specversion 0.3", value, with("ce_specversion", "0.3"), event.ReasonInvalidEnvelope, "/specversion"},
		{"unknown type", value, with("ce_type", "hr.employee.promoted"), event.ReasonUnknownType, "/type"},
		{"bad time", value, with("ce_time", "yesterday"), event.ReasonBadTime, "/time"},
		{"time in year 9999", value, with("ce_time", "9999-01-01T00:00:00Z"), event.ReasonDateOutOfRange, "/time"},
		{"not json data", value, with("content-type", "text/plain"), event.ReasonInvalidEnvelope, "content-type"},
		{"malformed value", []byte(`{"claim_id":`), headers, event.ReasonMalformedJSON, ""},
		{"array value", []byte(`[]`), headers, event.ReasonInvalidEnvelope, "/data: got array, want object"},
		{"empty value", nil, headers, event.ReasonMalformedJSON, ""},
		{"header not utf-8", value, with("ce_source", "\xff"), event.ReasonInvalidUTF8, "ce_source"},
		{"data misses merchant", []byte(strings.Replace(string(value), `"merchant"`, `"shop"`, 1)), headers, event.ReasonInvalidData, "/data/merchant"},
		{"value too large", []byte(`{"x":"` + strings.Repeat("a", 2<<20) + `"}`), headers, event.ReasonTooLarge, ""},
		{"batched mode", value, []event.Header{{Key: "content-type", Value: []byte("application/cloudevents-batch+json")}}, event.ReasonInvalidEnvelope, "batched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := event.NewDecoder(0).DecodeMessage(tt.value, tt.headers, received)
			var de *event.DecodeError
			if !errors.As(err, &de) || de.Reason != tt.wantReason || !strings.Contains(de.Detail, tt.wantDetail) {
				t.Fatalf("err = %v, want %s containing %q", err, tt.wantReason, tt.wantDetail)
			}
		})
	}
}

// A message without headers is structured mode, as every producer sent it
// before binary mode was accepted.
func TestDecodeMessageWithoutHeadersIsStructured(t *testing.T) {
	value, _ := sdkKafka(t, sdkEvent(t), true)
	e, err := event.NewDecoder(0).DecodeMessage(value, nil, time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC))
	if err != nil || e.ID != "c-77" || string(e.Raw) != string(value) {
		t.Fatalf("got %+v, %v", e, err)
	}
}

package notify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/notify"
)

// TestWebhookPayloadIsSignedAndVerifies: a receiver (a test HTTP server)
// gets, for each kind of incoming webhook, the JSON shape that kind
// accepts, our HMAC-SHA256 signature over timestamp and body (which it
// verifies with the shared secret), the idempotency key, and for DingTalk
// and Feishu their own robot signatures.
func TestWebhookPayloadIsSignedAndVerifies(t *testing.T) {
	const secret = "SECshared-webhook-secret"
	at := time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)
	tests := []struct {
		kind  string
		check func(t *testing.T, r *http.Request, body map[string]any)
	}{
		{notify.WebhookWeCom, func(t *testing.T, _ *http.Request, b map[string]any) {
			if b["msgtype"] != "text" || !strings.Contains(b["text"].(map[string]any)["content"].(string), "case-7") {
				t.Errorf("wecom body %v", b)
			}
		}},
		{notify.WebhookDingTalk, func(t *testing.T, r *http.Request, b map[string]any) {
			if b["msgtype"] != "text" || b["text"].(map[string]any)["content"] == "" {
				t.Errorf("dingtalk body %v", b)
			}
			ts := r.URL.Query().Get("timestamp")
			h := hmac.New(sha256.New, []byte(secret))
			h.Write([]byte(ts + "\n" + secret))
			if ts != "1772353800000" || r.URL.Query().Get("sign") != base64.StdEncoding.EncodeToString(h.Sum(nil)) {
				t.Errorf("dingtalk signature: timestamp %q sign %q", ts, r.URL.Query().Get("sign"))
			}
			if r.URL.Query().Get("access_token") != "tok" {
				t.Errorf("the URL's own parameters were lost: %s", r.URL.RawQuery)
			}
		}},
		{notify.WebhookFeishu, func(t *testing.T, _ *http.Request, b map[string]any) {
			h := hmac.New(sha256.New, []byte("1772353800\n"+secret))
			if b["msg_type"] != "text" || b["content"].(map[string]any)["text"] == "" ||
				b["timestamp"] != "1772353800" || b["sign"] != base64.StdEncoding.EncodeToString(h.Sum(nil)) {
				t.Errorf("feishu body %v", b)
			}
		}},
		{notify.WebhookSlack, func(t *testing.T, _ *http.Request, b map[string]any) {
			if !strings.Contains(b["text"].(string), "case-7") || len(b) != 1 {
				t.Errorf("slack body %v", b)
			}
		}},
		{notify.WebhookGeneric, func(t *testing.T, _ *http.Request, b map[string]any) {
			if b["id"] != "case.opened:case-7" || b["kind"] != notify.KindCaseOpened || b["subject"] == "" {
				t.Errorf("generic body %v", b)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			var got *http.Request
			var raw []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				raw, _ = io.ReadAll(r.Body)
				got = r
				// What a receiver does: verify before trusting the body.
				if err := notify.Verify([]byte(secret), r.Header.Get(notify.HeaderTimestamp), r.Header.Get(notify.HeaderSignature),
					raw, at.Add(time.Minute), 5*time.Minute); err != nil {
					http.Error(w, err.Error(), http.StatusUnauthorized)
					return
				}
				_, _ = io.WriteString(w, `{"errcode":0,"code":0}`)
			}))
			defer srv.Close()
			hook := notify.Webhook{Name: "duty", Kind: tc.kind, URL: srv.URL + "/robot/send?access_token=tok", Secret: secret}
			w := notify.NewWebhookSender(hook, srv.Client(), func() time.Time { return at })
			key := notify.IdempotencyKey("case.opened:case-7|webhook:duty")
			err := w.Send(t.Context(), notify.Message{DeliveryID: "case.opened:case-7|webhook:duty", Key: key, NoticeID: "case.opened:case-7",
				Kind: notify.KindCaseOpened, Subject: "New case case-7 (high)", Body: "Review it", At: at})
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if got.Header.Get(notify.HeaderIdempotency) != key || got.Header.Get(notify.HeaderDelivery) != key {
				t.Errorf("idempotency headers %v", got.Header)
			}
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatal(err)
			}
			tc.check(t, got, body)
			// A tampered body or an old timestamp does not verify.
			if notify.Verify([]byte(secret), got.Header.Get(notify.HeaderTimestamp), got.Header.Get(notify.HeaderSignature),
				append(raw, ' '), at, time.Minute) == nil {
				t.Error("a changed body verified")
			}
			if notify.Verify([]byte(secret), got.Header.Get(notify.HeaderTimestamp), got.Header.Get(notify.HeaderSignature),
				raw, at.Add(time.Hour), time.Minute) == nil {
				t.Error("a replay an hour later verified")
			}
		})
	}
}

// TestWebhookAnswers: 5xx and 429 are retried, other 4xx are permanent, and
// a 200 carrying an error code (WeCom, DingTalk, Feishu) is a failure.
func TestWebhookAnswers(t *testing.T) {
	tests := []struct {
		give          string
		status        int
		body          string
		wantErr, perm bool
	}{
		{give: "ok", status: 200, body: `{"errcode":0}`},
		{give: "unavailable", status: 503, wantErr: true},
		{give: "rate limited", status: 429, wantErr: true},
		{give: "not found", status: 404, wantErr: true, perm: true},
		{give: "error code in a 200", status: 200, body: `{"errcode":93000,"errmsg":"invalid webhook url"}`, wantErr: true},
		{give: "feishu sign mismatch", status: 200, body: `{"code":19021,"msg":"sign match fail"}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.give, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			w := notify.NewWebhookSender(notify.Webhook{Name: "h", Kind: notify.WebhookWeCom, URL: srv.URL}, srv.Client(), time.Now)
			err := w.Send(t.Context(), notify.Message{Subject: "s", Body: "b", At: time.Now()})
			if (err != nil) != tc.wantErr || notify.IsPermanent(err) != tc.perm {
				t.Errorf("err %v (permanent %v), want error %v permanent %v", err, notify.IsPermanent(err), tc.wantErr, tc.perm)
			}
		})
	}
}

// TestTemplatesRenderEveryKind: every kind has an English and a Chinese
// template that renders without missing values for its parameters.
func TestTemplatesRenderEveryKind(t *testing.T) {
	tpl, err := notify.LoadTemplates("https://moonlight.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"disclosure_id": "d1", "employee_id": "E1", "kind": "consulting", "start_date": "2026-01-01",
		"end_date": "2026-02-01", "approver": "compliance", "outcome": "approve", "valid_until": "2027-01-01", "case_id": "c1",
		"severity": "high", "findings": "2", "assigned_by": "E9", "project_code": "YU7", "due_on": "2026-01-06", "date": "2026-01-01",
		"open": "3", "high": "1", "opened": "1", "path": "/x"}
	for _, kind := range []string{notify.KindDeclarationSubmitted, notify.KindDeclarationDecided, notify.KindCaseOpened,
		notify.KindCaseRaisedHigh, notify.KindCaseAssigned, notify.KindAttestationDue, notify.KindAttestationOverdue,
		notify.KindApprovalExpiring, notify.KindDailyDigest} {
		for _, lang := range notify.Languages {
			if !tpl.Has(lang, kind) {
				t.Errorf("no %s template for %s", lang, kind)
				continue
			}
			subject, body, err := tpl.Render(notify.Notice{Kind: kind, Params: params}, lang)
			if err != nil || subject == "" || !strings.Contains(body, "https://moonlight.example.com/x") ||
				strings.Contains(subject+body, "no value") {
				t.Errorf("%s/%s: %q / %q, %v", lang, kind, subject, body, err)
			}
		}
	}
	s, _, _ := tpl.Render(notify.Notice{Kind: notify.KindCaseOpened, Params: params}, "zh")
	if !strings.Contains(s, "高") {
		t.Errorf("zh severity not translated: %q", s)
	}
	if s, _, _ := tpl.Render(notify.Notice{Kind: "something.new"}, "zh"); !strings.Contains(s, "something.new") {
		t.Errorf("an unknown kind renders %q, want a generic text", s)
	}
}

package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Headers of every webhook request.
const (
	HeaderTimestamp   = "X-Moonlight-Timestamp" // Unix seconds
	HeaderSignature   = "X-Moonlight-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
	HeaderDelivery    = "X-Moonlight-Delivery"  // the idempotency key
	HeaderIdempotency = "Idempotency-Key"
)

// Sign is the X-Moonlight-Signature of body sent at timestamp (Unix
// seconds): the timestamp is signed with the body so a captured request
// cannot be replayed later with a new timestamp.
func Sign(secret []byte, timestamp string, body []byte) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte("."))
	h.Write(body)
	return "sha256=" + hex.EncodeToString(h.Sum(nil))
}

// ErrBadSignature: a webhook request's signature or timestamp does not verify.
var ErrBadSignature = errors.New("webhook signature does not verify")

// Verify checks a received request's signature and that its timestamp is
// within tolerance of now (what a receiver should do; tests use it).
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad timestamp", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp %s is outside the tolerance", ErrBadSignature, timestamp)
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return ErrBadSignature
	}
	return nil
}

// WebhookSender posts messages to one incoming webhook in the payload
// shape its kind accepts.
type WebhookSender struct {
	hook   Webhook
	client *http.Client
	now    func() time.Time
}

// NewWebhookSender returns the channel of hook; client nil is a client
// without its own timeout (each send has a deadline).
func NewWebhookSender(hook Webhook, client *http.Client, now func() time.Time) *WebhookSender {
	if client == nil {
		client = &http.Client{}
	}
	return &WebhookSender{hook: hook, client: client, now: now}
}

// Payload is the body and URL of one request to the webhook.
func (w *WebhookSender) Payload(m Message, at time.Time) (target string, body []byte, err error) {
	text := m.Subject + "\n\n" + m.Body
	secret := string(w.hook.Secret)
	target = w.hook.URL
	var v any
	switch w.hook.Kind {
	case WebhookWeCom:
		v = map[string]any{"msgtype": "text", "text": map[string]string{"content": text}}
	case WebhookDingTalk:
		v = map[string]any{"msgtype": "text", "text": map[string]string{"content": text}}
		if secret != "" {
			// DingTalk's robot signature: timestamp (ms) and
			// base64(HMAC-SHA256(secret, timestamp+"\n"+secret)) as query parameters.
			ts := strconv.FormatInt(at.UnixMilli(), 10)
			h := hmac.New(sha256.New, []byte(secret))
			h.Write([]byte(ts + "\n" + secret))
			u, err := url.Parse(target)
			if err != nil {
				return "", nil, Permanent(err)
			}
			q := u.Query()
			q.Set("timestamp", ts)
			q.Set("sign", base64.StdEncoding.EncodeToString(h.Sum(nil)))
			u.RawQuery = q.Encode()
			target = u.String()
		}
	case WebhookFeishu:
		p := map[string]any{"msg_type": "text", "content": map[string]string{"text": text}}
		if secret != "" {
			// Feishu's custom-bot signature: timestamp (s) and
			// base64(HMAC-SHA256(key timestamp+"\n"+secret, empty message)) in the body.
			ts := strconv.FormatInt(at.Unix(), 10)
			h := hmac.New(sha256.New, []byte(ts+"\n"+secret))
			p["timestamp"] = ts
			p["sign"] = base64.StdEncoding.EncodeToString(h.Sum(nil))
		}
		v = p
	case WebhookSlack:
		v = map[string]any{"text": text}
	default:
		v = map[string]any{"id": m.NoticeID, "delivery": m.Key, "kind": m.Kind, "subject": m.Subject, "text": m.Body,
			"language": m.Language, "created_at": m.At.UTC().Format(time.RFC3339)}
	}
	body, err = json.Marshal(v)
	return target, body, err
}

// Send implements Channel.
func (w *WebhookSender) Send(ctx context.Context, m Message) error {
	at := w.now()
	target, body, err := w.Payload(m, at)
	if err != nil {
		return Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Permanent(err)
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderDelivery, m.Key)
	req.Header.Set(HeaderIdempotency, m.Key)
	if w.hook.Secret != "" {
		req.Header.Set(HeaderSignature, Sign([]byte(w.hook.Secret), ts, body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.hook.Name, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("webhook %s: HTTP %d", w.hook.Name, resp.StatusCode)
	case resp.StatusCode >= 300:
		return Permanent(fmt.Errorf("webhook %s: HTTP %d", w.hook.Name, resp.StatusCode))
	}
	// WeCom, DingTalk and Feishu answer 200 with an error code in the body.
	var res struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
		Code    *int   `json:"code"`
		Msg     string `json:"msg"`
	}
	if strings.HasPrefix(strings.TrimSpace(string(answer)), "{") && json.Unmarshal(answer, &res) == nil {
		if res.ErrCode != nil && *res.ErrCode != 0 {
			return fmt.Errorf("webhook %s: errcode %d: %s", w.hook.Name, *res.ErrCode, clip(res.ErrMsg))
		}
		if res.Code != nil && *res.Code != 0 {
			return fmt.Errorf("webhook %s: code %d: %s", w.hook.Name, *res.Code, clip(res.Msg))
		}
	}
	return nil
}

// Package smtpsink is the demo's mail server: it accepts every message
// (emersion/go-smtp) and keeps it in a Store instead of delivering it, so a
// newcomer sees on /admin/mail what Moonlight sent. Not for production: it
// takes mail from anyone who can reach its port (the demo binds 127.0.0.1).
package smtpsink

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
)

// Mail is one received message.
type Mail struct {
	ID         string
	MessageID  string // the Message-ID header, without angle brackets
	From       string
	To         []string
	Subject    string
	Body       string // the plain-text body, decoded
	ReceivedAt time.Time
}

// Store keeps received mail.
type Store interface {
	Add(ctx context.Context, m Mail) error
	// Recent returns up to limit messages, newest first.
	Recent(ctx context.Context, limit int) ([]Mail, error)
}

// Sink is a running SMTP sink.
type Sink struct {
	srv *smtp.Server
	ln  net.Listener
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves until Close.
func Start(addr string, store Store, log *slog.Logger) (*Sink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("smtp sink: %w", err)
	}
	srv := smtp.NewServer(&backend{store: store, log: log})
	srv.Domain = "moonlight-demo.local"
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 50
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			log.Warn("smtp sink stopped", "err", err)
		}
	}()
	return &Sink{srv: srv, ln: ln}, nil
}

// Addr is the address it listens on.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Close stops it.
func (s *Sink) Close() error { return s.srv.Close() }

type backend struct {
	store Store
	log   *slog.Logger
}

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{b: b}, nil }

type session struct {
	b    *backend
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Parse(raw)
	m.ID, m.From, m.To, m.ReceivedAt = uuid.Must(uuid.NewV7()).String(), s.from, s.to, time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.b.store.Add(ctx, m); err != nil {
		s.b.log.Warn("smtp sink could not store a message", "message_id", m.MessageID, "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot store the message now"}
	}
	return nil
}

// Parse reads the subject, Message-ID and plain-text body of a message.
func Parse(raw []byte) Mail {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Mail{Body: string(raw)}
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	out := Mail{Subject: subject, MessageID: strings.Trim(msg.Header.Get("Message-ID"), "<> ")}
	out.Body = textOf(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return out
}

// textOf decodes a part, or the first text/plain part of a multipart one.
func textOf(contentType, encoding string, body io.Reader) string {
	mt, params, _ := mime.ParseMediaType(contentType)
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return ""
			}
			pt := p.Header.Get("Content-Type")
			if pt == "" || strings.HasPrefix(pt, "text/plain") || strings.HasPrefix(pt, "multipart/") {
				return textOf(pt, p.Header.Get("Content-Transfer-Encoding"), p)
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: body})
	}
	b, _ := io.ReadAll(io.LimitReader(body, 1<<20))
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// newlineStripper drops CR and LF, which base64 bodies are wrapped with.
type newlineStripper struct{ r io.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

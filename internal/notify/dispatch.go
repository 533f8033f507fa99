package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Notice states in the outbox.
const (
	// StatePending: written, not yet expanded into deliveries (waiting for
	// its cause, or for the dispatcher).
	StatePending = "pending"
	// StateDispatched: expanded; its deliveries carry the delivery state.
	StateDispatched = "dispatched"
	// StateCancelled: the change it announced was never stored.
	StateCancelled = "cancelled"
)

// Delivery states.
const (
	DeliveryPending = "pending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed" // permanently, or out of attempts
)

// Channels.
const (
	ChannelMail    = "mail"
	ChannelWebhook = "webhook"
)

// Stored is a notice with its outbox state.
type Stored struct {
	Notice
	State  string
	Note   string // why it was cancelled, or why it has no delivery
	NextAt time.Time
}

// Delivery is one notice sent over one channel to one address (or webhook).
type Delivery struct {
	// ID is "<notice id>|<channel>:<target>", so expanding a notice twice
	// adds nothing.
	ID        string
	NoticeID  string
	Channel   string
	Target    string // an e-mail address, or a webhook's name
	Language  string
	State     string
	Attempts  int
	NextAt    time.Time
	LastError string
	SentAt    time.Time
}

// DeliveryID is the id of the delivery of noticeID over channel to target.
func DeliveryID(noticeID, channel, target string) string {
	return noticeID + "|" + channel + ":" + target
}

// IdempotencyKey is what receivers dedupe on: the same for every attempt of
// one delivery (Message-ID of a mail, Idempotency-Key of a webhook).
func IdempotencyKey(deliveryID string) string {
	h := sha256.Sum256([]byte(deliveryID))
	return hex.EncodeToString(h[:16])
}

// CauseState is what the store knows of a notice's cause.
type CauseState int

// Cause states.
const (
	CauseStored CauseState = iota // the change is stored as the cause says
	CauseAbsent                   // not (yet) stored
	CauseLost                     // another change took the version
)

// Store is the outbox as the dispatcher uses it.
type Store interface {
	Outbox
	// DueNotices returns pending notices whose NextAt has passed, oldest first.
	DueNotices(ctx context.Context, now time.Time, limit int) ([]Stored, error)
	// CauseState tells whether c is stored.
	CauseState(ctx context.Context, c Cause) (CauseState, error)
	// Expand stores the deliveries (ids already stored are kept as they
	// are) and marks the notice dispatched with note.
	Expand(ctx context.Context, noticeID string, ds []Delivery, note string) error
	// Cancel marks a pending notice cancelled.
	Cancel(ctx context.Context, noticeID, note string) error
	// Postpone moves a pending notice's NextAt.
	Postpone(ctx context.Context, noticeID string, until time.Time) error
	// DueDeliveries returns pending deliveries whose NextAt has passed.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// Delivery reads one delivery.
	Delivery(ctx context.Context, id string) (Delivery, error)
	// Notice reads one notice.
	Notice(ctx context.Context, id string) (Stored, error)
	// Claim takes attempt number attempt of delivery id for holder until
	// until, by inserting the claim "<id>#<attempt>": of concurrent claims
	// exactly one wins. stale reports that the claim exists, belongs to
	// someone else and expired before now (its holder stopped mid-attempt).
	Claim(ctx context.Context, id string, attempt int, holder string, now, until time.Time) (won, stale bool, err error)
	// Record stores the outcome of an attempt (State, Attempts, NextAt,
	// LastError, SentAt of d).
	Record(ctx context.Context, d Delivery) error
}

// ErrNotFound is a notice or delivery that is not stored.
var ErrNotFound = errors.New("notice not found")

// Person is a recipient as the dispatcher needs them.
type Person struct {
	ID       string
	Email    string
	Language string // "" when their profile has none
}

// People finds recipients (the HR projection and their profiles).
type People interface {
	// Person returns the person with id; ok is false when unknown.
	Person(ctx context.Context, id string) (p Person, ok bool, err error)
}

// Message is one delivery as a channel sends it.
type Message struct {
	DeliveryID string
	// Key is the idempotency key (IdempotencyKey of DeliveryID).
	Key      string
	NoticeID string
	Kind     string
	To       string // the address; a webhook's name
	Subject  string
	Body     string
	Language string
	At       time.Time // the notice's CreatedAt
}

// Channel sends messages.
type Channel interface {
	Send(ctx context.Context, m Message) error
}

// permanent marks an error not worth retrying.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so the dispatcher marks the delivery failed at once
// (a refused address, a 4xx answer) instead of retrying.
func Permanent(err error) error { return permanent{err} }

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool { return errors.As(err, new(permanent)) }

// Dispatcher expands notices into deliveries and delivers them. Every
// replica runs one; the outbox's claims keep any attempt of a delivery to a
// single replica.
type Dispatcher struct {
	Store     Store
	People    People
	Templates *Templates
	Mail      Channel            // nil: no SMTP configured
	Webhooks  map[string]Channel // by webhook name
	Config    Config
	Holder    string
	Now       func() time.Time
	Log       *slog.Logger
}

// Stats counts one round.
type Stats struct {
	Expanded, Cancelled, Sent, Retried, Failed int
}

// Round does one pass: expand due notices, then attempt due deliveries.
func (d *Dispatcher) Round(ctx context.Context) (Stats, error) {
	var st Stats
	now := d.Now()
	ns, err := d.Store.DueNotices(ctx, now, 100)
	if err != nil {
		return st, fmt.Errorf("due notices: %w", err)
	}
	for _, n := range ns {
		if err := d.expand(ctx, n, now, &st); err != nil {
			if ctx.Err() != nil {
				return st, ctx.Err()
			}
			d.Log.Warn("notice not expanded; next round", "notice", n.ID, "err", err)
		}
	}
	ds, err := d.Store.DueDeliveries(ctx, now, 50)
	if err != nil {
		return st, fmt.Errorf("due deliveries: %w", err)
	}
	for _, del := range ds {
		if err := d.deliver(ctx, del, &st); err != nil {
			if ctx.Err() != nil {
				return st, ctx.Err()
			}
			d.Log.Warn("delivery not attempted; next round", "delivery", del.ID, "err", err)
		}
	}
	return st, nil
}

// Run does rounds at the poll interval until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.Config.PollInterval)
	defer t.Stop()
	for {
		if st, err := d.Round(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn("dispatch round failed; next at the interval", "err", err)
		} else if st.Sent+st.Failed+st.Cancelled > 0 {
			d.Log.Info("notifications dispatched", "sent", st.Sent, "retried", st.Retried, "failed", st.Failed, "cancelled", st.Cancelled)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Dispatcher) expand(ctx context.Context, n Stored, now time.Time, st *Stats) error {
	if n.Cause != nil {
		cs, err := d.Store.CauseState(ctx, *n.Cause)
		if err != nil {
			return err
		}
		switch {
		case cs == CauseLost:
			st.Cancelled++
			return d.Store.Cancel(ctx, n.ID, "another change of "+n.Cause.Resource+" "+n.Cause.ID+" was stored instead")
		case cs == CauseAbsent && now.Sub(n.CreatedAt) > d.Config.CauseGrace:
			st.Cancelled++
			return d.Store.Cancel(ctx, n.ID, "the change it announces was never stored")
		case cs == CauseAbsent:
			return d.Store.Postpone(ctx, n.ID, now.Add(min(d.Config.PollInterval, time.Second)))
		}
	}
	ds, note, unknown, err := d.targets(ctx, n.Notice)
	if err != nil {
		return err
	}
	if len(ds) == 0 && unknown && now.Sub(n.CreatedAt) < d.Config.CauseGrace {
		// The recipient may not be known yet (HR events still arriving,
		// as when the demo starts): try again for a while.
		return d.Store.Postpone(ctx, n.ID, now.Add(5*d.Config.PollInterval))
	}
	st.Expanded++
	return d.Store.Expand(ctx, n.ID, ds, note)
}

// targets resolves a notice's recipient into deliveries.
func (d *Dispatcher) targets(ctx context.Context, n Notice) (_ []Delivery, note string, unknown bool, _ error) {
	var out []Delivery
	var notes []string
	add := func(channel, target, lang string) {
		id := DeliveryID(n.ID, channel, target)
		if slices.ContainsFunc(out, func(x Delivery) bool { return x.ID == id }) {
			return
		}
		out = append(out, Delivery{ID: id, NoticeID: n.ID, Channel: channel, Target: target, Language: lang,
			State: DeliveryPending, NextAt: n.CreatedAt})
	}
	mailTo := func(p Person) {
		lang := p.Language
		if !slices.Contains(Languages, lang) {
			lang = d.Config.Language
		}
		switch {
		case p.Email == "":
			notes = append(notes, "no e-mail address for "+p.ID)
		case d.Mail == nil:
			notes = append(notes, "no SMTP server configured")
		default:
			add(ChannelMail, strings.ToLower(p.Email), lang)
		}
	}
	person := func(id string) error {
		if strings.Contains(id, "@") {
			mailTo(Person{ID: id, Email: id})
			return nil
		}
		p, ok, err := d.People.Person(ctx, id)
		if err != nil {
			return fmt.Errorf("recipient %s: %w", id, err)
		}
		if !ok {
			notes = append(notes, "unknown recipient "+id)
			unknown = true
			return nil
		}
		mailTo(p)
		return nil
	}
	if list, ok := ListName(n.Recipient); ok {
		if n.Recipient == ListComplianceOnDuty {
			for _, id := range d.Config.OnDuty {
				if err := person(strings.TrimSpace(id)); err != nil {
					return nil, "", false, err
				}
			}
			if len(d.Config.OnDuty) == 0 {
				notes = append(notes, "the on-duty list is empty")
			}
		}
		for _, w := range d.Config.Webhooks {
			lists := w.Lists
			if len(lists) == 0 {
				lists = []string{strings.TrimPrefix(ListComplianceOnDuty, "list:")}
			}
			if slices.Contains(lists, list) && d.Webhooks[w.Name] != nil {
				add(ChannelWebhook, w.Name, d.Config.Language)
			}
		}
	} else if err := person(n.Recipient); err != nil {
		return nil, "", false, err
	}
	slices.SortFunc(out, func(a, b Delivery) int { return strings.Compare(a.ID, b.ID) })
	slices.Sort(notes)
	return out, strings.Join(slices.Compact(notes), "; "), unknown, nil
}

// deliver attempts one delivery if this dispatcher wins its claim.
func (d *Dispatcher) deliver(ctx context.Context, del Delivery, st *Stats) error {
	now := d.Now()
	won, stale, err := d.Store.Claim(ctx, del.ID, del.Attempts, d.Holder, now, now.Add(4*d.Config.SendTimeout))
	if err != nil {
		return err
	}
	if !won {
		if stale {
			// Its holder stopped during the attempt: whether it went out is
			// unknown. The next attempt carries the same idempotency key.
			cur, err := d.Store.Delivery(ctx, del.ID)
			if err != nil || cur.State != DeliveryPending || cur.Attempts != del.Attempts {
				return err
			}
			cur.Attempts++
			cur.LastError = "attempt interrupted (dispatcher stopped); outcome unknown"
			cur.NextAt = now
			if cur.Attempts >= d.Config.MaxAttempts {
				cur.State = DeliveryFailed
			}
			return d.Store.Record(ctx, cur)
		}
		return nil
	}
	// Re-read under the claim: another replica may have finished it
	// between our listing and our claim.
	cur, err := d.Store.Delivery(ctx, del.ID)
	if err != nil {
		return err
	}
	if cur.State != DeliveryPending || cur.Attempts != del.Attempts {
		return nil
	}
	n, err := d.Store.Notice(ctx, cur.NoticeID)
	if err != nil {
		return err
	}
	sendErr := d.send(ctx, cur, n.Notice)
	cur.Attempts++
	done := d.Now()
	switch {
	case sendErr == nil:
		cur.State, cur.SentAt, cur.LastError = DeliverySent, done, ""
		st.Sent++
	case IsPermanent(sendErr) || cur.Attempts >= d.Config.MaxAttempts:
		cur.State, cur.LastError = DeliveryFailed, clip(sendErr.Error())
		st.Failed++
	default:
		cur.NextAt, cur.LastError = done.Add(d.retryAfter(cur.Attempts)), clip(sendErr.Error())
		st.Retried++
	}
	if err := d.Store.Record(context.WithoutCancel(ctx), cur); err != nil {
		return err
	}
	if sendErr != nil {
		d.Log.Warn("delivery failed", "delivery_key", IdempotencyKey(cur.ID), "notice", cur.NoticeID, "channel", cur.Channel,
			"attempts", cur.Attempts, "state", cur.State, "err", sendErr)
	}
	return nil
}

func (d *Dispatcher) send(ctx context.Context, del Delivery, n Notice) error {
	subject, body, err := d.Templates.Render(n, del.Language)
	if err != nil {
		return Permanent(err)
	}
	m := Message{DeliveryID: del.ID, Key: IdempotencyKey(del.ID), NoticeID: n.ID, Kind: n.Kind, To: del.Target,
		Subject: subject, Body: body, Language: del.Language, At: n.CreatedAt}
	var ch Channel
	switch del.Channel {
	case ChannelMail:
		ch = d.Mail
	case ChannelWebhook:
		ch = d.Webhooks[del.Target]
	}
	if ch == nil {
		return Permanent(fmt.Errorf("channel %s to %s is not configured any more", del.Channel, del.Target))
	}
	sctx, cancel := context.WithTimeout(ctx, d.Config.SendTimeout)
	defer cancel()
	return ch.Send(sctx, m)
}

// retryAfter is the backoff before attempt number attempts+1: exponential
// from RetryMin, capped at RetryMax, with jitter (cenkalti/backoff).
func (d *Dispatcher) retryAfter(attempts int) time.Duration {
	b := &backoff.ExponentialBackOff{InitialInterval: d.Config.RetryMin, RandomizationFactor: 0.2, Multiplier: 2,
		MaxInterval: d.Config.RetryMax}
	b.Reset()
	wait := d.Config.RetryMin
	for i := 0; i < attempts; i++ {
		wait = b.NextBackOff()
	}
	return wait
}

func clip(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}

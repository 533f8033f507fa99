package ruleset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// Audit actions of rule-set changes (resource type watchlist, resource id
// the counterparty id, or "rules").
const (
	ActionCounterpartyAdd    audit.Action = "counterparty.add"
	ActionCounterpartyEdit   audit.Action = "counterparty.edit"
	ActionCounterpartyRetire audit.Action = "counterparty.retire"
	ActionRulesEdit          audit.Action = "rules.edit"
	// ActionAccessDenied records a refused attempt.
	ActionAccessDenied audit.Action = "access.denied"
)

// Service changes the rule set: it checks the caller is an admin (here,
// once, for every transport), inserts the next version and audits the
// change with a diff.
type Service struct {
	Store  Store
	Holder *Holder
	Audit  audit.Store
	Now    func() time.Time
}

// Caller is who acts, with the request id for the audit log.
type Caller struct {
	Principal auth.Principal
	RequestID string
}

// Current returns the version in force on this replica after catching up
// with the store, so a reader right after a write elsewhere sees it.
func (s *Service) Current(ctx context.Context, c Caller) (*Set, error) {
	if err := s.authorize(ctx, c, "read the rule set", ""); err != nil {
		return nil, err
	}
	if _, err := s.Holder.Refresh(ctx); err != nil {
		return nil, err
	}
	return s.Holder.Set(), nil
}

// AddCounterparty adds an entry; ErrConflict (as ErrInvalid) when the id is
// in use. base, when not 0, is the version the caller saw: ErrStale if the
// rule set moved on since.
func (s *Service) AddCounterparty(ctx context.Context, c Caller, cp watchlist.Counterparty, base int64) (*Set, error) {
	if err := s.authorize(ctx, c, "add a counterparty", cp.ID); err != nil {
		return nil, err
	}
	return s.change(ctx, c, base, ChangeAdd, cp.ID, func(v *Version) (map[string]string, error) {
		if slices.ContainsFunc(v.Counterparties, func(x watchlist.Counterparty) bool { return x.ID == cp.ID }) {
			return nil, fmt.Errorf("counterparty %q exists already (PUT changes it): %w", cp.ID, ErrInvalid)
		}
		v.Retired = slices.DeleteFunc(v.Retired, func(r Retired) bool { return r.Counterparty.ID == cp.ID })
		v.Counterparties = append(v.Counterparties, cp)
		return diff(nil, &cp), nil
	})
}

// UpdateCounterparty replaces the entry with cp's id (ErrNotFound if none).
func (s *Service) UpdateCounterparty(ctx context.Context, c Caller, cp watchlist.Counterparty, base int64) (*Set, error) {
	if err := s.authorize(ctx, c, "change a counterparty", cp.ID); err != nil {
		return nil, err
	}
	return s.change(ctx, c, base, ChangeEdit, cp.ID, func(v *Version) (map[string]string, error) {
		i := slices.IndexFunc(v.Counterparties, func(x watchlist.Counterparty) bool { return x.ID == cp.ID })
		if i < 0 {
			return nil, fmt.Errorf("counterparty %q: %w", cp.ID, ErrNotFound)
		}
		old := v.Counterparties[i]
		d := diff(&old, &cp)
		if len(d) == 0 {
			return nil, nil
		}
		v.Counterparties = slices.Clone(v.Counterparties)
		v.Counterparties[i] = cp
		return d, nil
	})
}

// RetireCounterparty takes the entry off the watchlist; it stays in the
// version's retired list (ErrNotFound if it is not in force).
func (s *Service) RetireCounterparty(ctx context.Context, c Caller, id string, base int64) (*Set, error) {
	if err := s.authorize(ctx, c, "retire a counterparty", id); err != nil {
		return nil, err
	}
	return s.change(ctx, c, base, ChangeRetire, id, func(v *Version) (map[string]string, error) {
		i := slices.IndexFunc(v.Counterparties, func(x watchlist.Counterparty) bool { return x.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("counterparty %q: %w", id, ErrNotFound)
		}
		old := v.Counterparties[i]
		v.Counterparties = slices.Delete(slices.Clone(v.Counterparties), i, i+1)
		v.Retired = append(slices.Clone(v.Retired), Retired{Counterparty: old, At: v.At, By: v.Actor})
		return diff(&old, nil), nil
	})
}

// UpdateRules replaces the rules YAML.
func (s *Service) UpdateRules(ctx context.Context, c Caller, rules []byte, base int64) (*Set, error) {
	if err := s.authorize(ctx, c, "change the rules", "rules"); err != nil {
		return nil, err
	}
	return s.change(ctx, c, base, ChangeRules, "rules", func(v *Version) (map[string]string, error) {
		d := lineDiff(string(v.Rules), string(rules))
		if len(d) == 0 {
			return nil, nil
		}
		v.Rules = rules
		return d, nil
	})
}

// change applies edit to the newest version and inserts the result as the
// next one; when another replica inserted that number first, it starts again
// on top of it (unless the caller bound the change to a version).
func (s *Service) change(ctx context.Context, c Caller, base int64, kind, subject string, edit func(*Version) (map[string]string, error)) (*Set, error) {
	for attempt := 0; attempt < 5; attempt++ {
		latest, err := s.Store.Latest(ctx)
		if err != nil {
			return nil, err
		}
		if base != 0 && latest.Number != base {
			return nil, fmt.Errorf("rule set is at version %d, not %d: %w", latest.Number, base, ErrStale)
		}
		now := s.Now()
		next := latest
		next.Number, next.At, next.Actor, next.Change, next.Subject = latest.Number+1, now, c.Principal.Subject, kind, subject
		d, err := edit(&next)
		if err != nil {
			return nil, err
		}
		if d == nil {
			// Nothing changes: no new version.
			set, err := Compile(latest)
			if err != nil {
				return nil, err
			}
			return set, nil
		}
		set, err := Compile(next)
		if err != nil {
			return nil, err
		}
		// The audit entry goes first: a crash before the insert leaves an
		// entry for a change that did not happen, never a change unaudited.
		d["version"] = strconv.FormatInt(next.Number, 10)
		if err := s.Audit.Append(ctx, audit.Entry{
			ID: audit.NewID(), At: now, Actor: c.Principal.Subject, ActorRoles: c.Principal.Roles, Action: actionOf(kind),
			ResourceType: audit.ResourceWatchlist, ResourceID: subject, Reason: "rule set version " + d["version"],
			Details: d, RequestID: c.RequestID,
		}); err != nil {
			return nil, err
		}
		err = s.Store.Insert(ctx, next)
		if errors.Is(err, ErrConflict) {
			if base != 0 {
				return nil, fmt.Errorf("rule set version %d was written concurrently: %w", next.Number, ErrStale)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		s.Holder.Use(set)
		return set, nil
	}
	return nil, fmt.Errorf("rule set: %w", ErrConflict)
}

func actionOf(kind string) audit.Action {
	switch kind {
	case ChangeAdd:
		return ActionCounterpartyAdd
	case ChangeEdit:
		return ActionCounterpartyEdit
	case ChangeRetire:
		return ActionCounterpartyRetire
	}
	return ActionRulesEdit
}

func (s *Service) authorize(ctx context.Context, c Caller, what, resource string) error {
	if c.Principal.Has(auth.RoleAdmin) {
		return nil
	}
	err := s.Audit.Append(ctx, audit.Entry{
		ID: audit.NewID(), At: s.Now(), Actor: c.Principal.Subject, ActorRoles: c.Principal.Roles, Action: ActionAccessDenied,
		ResourceType: audit.ResourceWatchlist, ResourceID: resource, Reason: "refused: " + what + " needs the admin role",
		RequestID: c.RequestID,
	})
	return errors.Join(ErrForbidden, err)
}

// diff lists the fields of a counterparty that differ, as "field" -> "old →
// new" (audit detail values are short; long ones are cut).
func diff(before, after *watchlist.Counterparty) map[string]string {
	a, b := fieldsOf(before), fieldsOf(after)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	out := map[string]string{}
	for _, k := range names {
		if a[k] == b[k] {
			continue
		}
		if len(out) >= 15 {
			out["more"] = "further fields changed"
			break
		}
		out["diff_"+k] = clip(orNone(a[k]) + " → " + orNone(b[k]))
	}
	return out
}

func fieldsOf(c *watchlist.Counterparty) map[string]string {
	out := map[string]string{}
	if c == nil {
		return out
	}
	b, _ := json.Marshal(c)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	for k, v := range m {
		if s := string(v); s != `""` && s != "null" && s != "[]" && s != "0" && s != "false" {
			out[k] = s
		}
	}
	return out
}

// lineDiff summarises a text change as removed and added lines.
func lineDiff(before, after string) map[string]string {
	if before == after {
		return nil
	}
	old, new := strings.Split(before, "\n"), strings.Split(after, "\n")
	count := func(ls []string) map[string]int {
		m := map[string]int{}
		for _, l := range ls {
			m[l]++
		}
		return m
	}
	co, cn := count(old), count(new)
	var removed, added []string
	for _, l := range old {
		if cn[l] > 0 {
			cn[l]--
		} else if strings.TrimSpace(l) != "" {
			removed = append(removed, "- "+l)
		}
	}
	for _, l := range new {
		if co[l] > 0 {
			co[l]--
		} else if strings.TrimSpace(l) != "" {
			added = append(added, "+ "+l)
		}
	}
	return map[string]string{"diff_removed": clip(strings.Join(removed, "\n")), "diff_added": clip(strings.Join(added, "\n"))}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func clip(s string) string {
	const max = 480
	if len(s) <= max {
		return s
	}
	r := []rune(s[:max])
	return string(r[:len(r)-1]) + "…"
}

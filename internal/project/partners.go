package project

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/civil"
)

// Partner kinds.
const (
	KindMedia       = "media"
	KindSupplier    = "supplier"
	KindSubSupplier = "sub_supplier"
	KindAgency      = "agency"
	KindOther       = "other"
)

// PartnerKinds lists the kinds.
func PartnerKinds() []string {
	return []string{KindMedia, KindSupplier, KindSubSupplier, KindAgency, KindOther}
}

// Audit actions of the registry.
const (
	ActionPartnerCreate audit.Action = "partner.create"
	ActionPartnerUpdate audit.Action = "partner.update"
	ActionPartnerDelete audit.Action = "partner.delete"
	ActionPartnerImport audit.Action = "partner.import"
	ActionPartnerRead   audit.Action = "partner.read"
	ResourcePartner                  = "partner"
)

// Partner is an external party with access to a project under NDA.
type Partner struct {
	ID          string
	ProjectCode string
	Name        string
	Kind        string
	// Parent names the partner this one supplies (a sub-supplier's supplier).
	Parent       string
	NDASignedOn  civil.Date
	NDAExpiresOn civil.Date
	// EmbargoUntil: nothing about the project may be published before this day.
	EmbargoUntil civil.Date
	Contacts     []Contact
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Version      int64
}

// Contact is a named person at a partner.
type Contact struct {
	Name  string
	Email string
	Role  string
}

// NDAValidOn reports whether the partner's NDA covers day d.
func (p Partner) NDAValidOn(d civil.Date) bool {
	return !p.NDASignedOn.IsZero() && !p.NDASignedOn.After(d) && (p.NDAExpiresOn.IsZero() || !d.After(p.NDAExpiresOn))
}

// PartnerID is deterministic from project and name (case-folded), so a
// CSV imported twice updates rather than duplicates.
func PartnerID(project, name string) string {
	h := sha256.Sum256([]byte(strings.ToUpper(strings.TrimSpace(project)) + "\x00" + strings.ToLower(strings.Join(strings.Fields(name), " "))))
	return "ptn-" + hex.EncodeToString(h[:8])
}

// ContactKey identifies a contact within the registry (for pseudonyms).
func ContactKey(partnerID string, c Contact) string {
	return "contact:" + partnerID + ":" + strings.ToLower(strings.TrimSpace(c.Email)) + ":" + strings.TrimSpace(c.Name)
}

// PartnerError names the invalid fields of a partner (and, in an import, the line).
type PartnerError struct {
	Line   int // 0 outside an import
	Fields map[string]string
}

func (e *PartnerError) Error() string {
	var parts []string
	for _, k := range sortedKeys(e.Fields) {
		parts = append(parts, k+": "+e.Fields[k])
	}
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, strings.Join(parts, "; "))
	}
	return "invalid partner: " + strings.Join(parts, "; ")
}

// Normalize trims a partner and reports every invalid field.
func Normalize(p Partner) (Partner, error) {
	f := map[string]string{}
	p.ProjectCode = strings.ToUpper(strings.TrimSpace(p.ProjectCode))
	p.Name = strings.Join(strings.Fields(p.Name), " ")
	p.Kind = strings.TrimSpace(p.Kind)
	p.Parent = strings.TrimSpace(p.Parent)
	if p.ProjectCode == "" || len(p.ProjectCode) > 32 || strings.ContainsAny(p.ProjectCode, " $.") {
		f["project_code"] = "is required: a project code such as MS11 (at most 32 characters)"
	}
	if p.Name == "" || utf8.RuneCountInString(p.Name) > 256 {
		f["name"] = "is required, at most 256 characters"
	}
	if !slices.Contains(PartnerKinds(), p.Kind) {
		f["kind"] = "must be one of " + strings.Join(PartnerKinds(), ", ")
	}
	if utf8.RuneCountInString(p.Parent) > 256 {
		f["parent"] = "at most 256 characters"
	}
	for name, d := range map[string]*civil.Date{"nda_signed_on": &p.NDASignedOn, "nda_expires_on": &p.NDAExpiresOn, "embargo_until": &p.EmbargoUntil} {
		s := strings.TrimSpace(string(*d))
		if s == "" {
			*d = ""
			continue
		}
		v, err := civil.Parse(s)
		if err != nil {
			f[name] = "must be a date YYYY-MM-DD"
			continue
		}
		*d = v
	}
	if p.NDASignedOn.IsZero() && f["nda_signed_on"] == "" {
		f["nda_signed_on"] = "is required: the day the NDA was signed"
	}
	if !p.NDAExpiresOn.IsZero() && !p.NDASignedOn.IsZero() && p.NDAExpiresOn.Before(p.NDASignedOn) {
		f["nda_expires_on"] = "must not be before nda_signed_on"
	}
	if len(p.Contacts) > 100 {
		f["contacts"] = "at most 100 contacts"
	}
	for i, c := range p.Contacts {
		c.Name, c.Email, c.Role = strings.TrimSpace(c.Name), strings.TrimSpace(c.Email), strings.TrimSpace(c.Role)
		if c.Name == "" || utf8.RuneCountInString(c.Name) > 256 {
			f[fmt.Sprintf("contacts[%d].name", i)] = "is required, at most 256 characters"
		}
		if c.Email != "" {
			if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
				f[fmt.Sprintf("contacts[%d].email", i)] = "must be an e-mail address"
			}
		}
		if utf8.RuneCountInString(c.Role) > 256 {
			f[fmt.Sprintf("contacts[%d].role", i)] = "at most 256 characters"
		}
		p.Contacts[i] = c
	}
	if len(f) > 0 {
		return p, &PartnerError{Fields: f}
	}
	return p, nil
}

// PartnerStore persists the registry.
type PartnerStore interface {
	// Create stores a new partner; ErrConflict when its id exists.
	Create(ctx context.Context, p Partner) error
	Get(ctx context.Context, id string) (Partner, error)
	// Update writes p if its stored version is still p.Version; ErrConflict otherwise.
	Update(ctx context.Context, p Partner, entries ...audit.Entry) (Partner, error)
	Delete(ctx context.Context, id string) error
	// List returns the partners of project ("" all), by project and name.
	List(ctx context.Context, project string) ([]Partner, error)
}

// Partners is the registry's service: admins change it, compliance,
// auditors and admins read it; every change and read is audited.
type Partners struct {
	Store PartnerStore
	Audit audit.Store
	Now   func() time.Time
}

func (s *Partners) entry(a Actor, action audit.Action, id string, details map[string]string) audit.Entry {
	return audit.Entry{ID: audit.NewID(), At: s.Now().UTC(), Actor: a.ID, ActorRoles: a.Roles, Action: action,
		ResourceType: ResourcePartner, ResourceID: id, RequestID: a.RequestID, Details: details}
}

func (s *Partners) guard(ctx context.Context, a Actor, write bool, id string) error {
	ok := a.has(roleAdmin)
	if !write {
		ok = a.has(roleAdmin, roleCompliance, roleAuditor)
	}
	if ok {
		return nil
	}
	e := s.entry(a, audit.ActionAccessDenied, id, map[string]string{"attempt": "partners"})
	e.Reason = "partner registry: admins change it; compliance, auditors and admins read it"
	e.ResourceID = id
	if id == "" {
		e.ResourceID = "registry"
	}
	_ = s.Audit.Append(ctx, e)
	return ErrForbidden
}

// List returns partners of project ("" all).
func (s *Partners) List(ctx context.Context, a Actor, project string) ([]Partner, error) {
	if err := s.guard(ctx, a, false, ""); err != nil {
		return nil, err
	}
	ps, err := s.Store.List(ctx, strings.ToUpper(strings.TrimSpace(project)))
	if err != nil {
		return nil, err
	}
	rid := project
	if rid == "" {
		rid = "all"
	}
	if err := s.Audit.Append(ctx, s.entry(a, ActionPartnerRead, rid, map[string]string{"partners": strconv.Itoa(len(ps))})); err != nil {
		return nil, err
	}
	return ps, nil
}

// Get returns one partner.
func (s *Partners) Get(ctx context.Context, a Actor, id string) (Partner, error) {
	if err := s.guard(ctx, a, false, id); err != nil {
		return Partner{}, err
	}
	p, err := s.Store.Get(ctx, id)
	if err != nil {
		return Partner{}, err
	}
	return p, s.Audit.Append(ctx, s.entry(a, ActionPartnerRead, id, nil))
}

// Create adds a partner.
func (s *Partners) Create(ctx context.Context, a Actor, p Partner) (Partner, error) {
	if err := s.guard(ctx, a, true, ""); err != nil {
		return Partner{}, err
	}
	p, err := Normalize(p)
	if err != nil {
		return Partner{}, err
	}
	now := s.Now().UTC()
	p.ID, p.CreatedAt, p.UpdatedAt, p.Version = PartnerID(p.ProjectCode, p.Name), now, now, 1
	if err := s.Store.Create(ctx, p); err != nil {
		return Partner{}, err
	}
	return p, s.Audit.Append(ctx, s.entry(a, ActionPartnerCreate, p.ID, map[string]string{"project": p.ProjectCode, "kind": p.Kind}))
}

// Update replaces a partner's fields if version is the one read.
func (s *Partners) Update(ctx context.Context, a Actor, id string, version int64, p Partner) (Partner, error) {
	if err := s.guard(ctx, a, true, id); err != nil {
		return Partner{}, err
	}
	cur, err := s.Store.Get(ctx, id)
	if err != nil {
		return Partner{}, err
	}
	if cur.Version != version {
		return Partner{}, fmt.Errorf("partner %s is at version %d, not %d: %w", id, cur.Version, version, ErrStale)
	}
	p, err = Normalize(p)
	if err != nil {
		return Partner{}, err
	}
	if p.ProjectCode != cur.ProjectCode || PartnerID(p.ProjectCode, p.Name) != cur.ID {
		return Partner{}, &PartnerError{Fields: map[string]string{"name": "project and name identify a partner and cannot change; add a new one"}}
	}
	p.ID, p.CreatedAt, p.UpdatedAt, p.Version = cur.ID, cur.CreatedAt, s.Now().UTC(), cur.Version
	out, err := s.Store.Update(ctx, p, s.entry(a, ActionPartnerUpdate, id, map[string]string{"version": strconv.FormatInt(version, 10)}))
	if errors.Is(err, ErrConflict) {
		return Partner{}, fmt.Errorf("partner %s: %w", id, ErrStale)
	}
	return out, err
}

// Delete removes a partner.
func (s *Partners) Delete(ctx context.Context, a Actor, id string) error {
	if err := s.guard(ctx, a, true, id); err != nil {
		return err
	}
	if _, err := s.Store.Get(ctx, id); err != nil {
		return err
	}
	if err := s.Audit.Append(ctx, s.entry(a, ActionPartnerDelete, id, nil)); err != nil {
		return err
	}
	return s.Store.Delete(ctx, id)
}

// ImportResult says what an import did.
type ImportResult struct {
	Created, Updated int
	Errors           []PartnerError
}

// CSVHeader is the columns of a partner import, one contact per line; lines
// of the same project and name are one partner with several contacts.
var CSVHeader = []string{"project_code", "name", "kind", "parent", "nda_signed_on", "nda_expires_on", "embargo_until",
	"contact_name", "contact_email", "contact_role"}

// MaxImportLines bounds one import.
const MaxImportLines = 5000

// ParseCSV reads an import: a header naming CSVHeader's columns (in any
// order; a UTF-8 BOM is skipped), then one contact per line. Every invalid
// line is reported with its number; valid partners are returned.
func ParseCSV(r io.Reader) ([]Partner, []PartnerError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, &PartnerError{Line: 1, Fields: map[string]string{"header": "the file has no header line"}}
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		col[h] = i
	}
	for _, need := range []string{"project_code", "name", "kind", "nda_signed_on"} {
		if _, ok := col[need]; !ok {
			return nil, nil, &PartnerError{Line: 1, Fields: map[string]string{"header": "needs the columns " + strings.Join(CSVHeader, ",")}}
		}
	}
	byID := map[string]*Partner{}
	var order []string
	var errs []PartnerError
	bad := map[string]bool{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if line > MaxImportLines+1 {
			return nil, nil, &PartnerError{Line: line, Fields: map[string]string{"file": fmt.Sprintf("at most %d lines", MaxImportLines)}}
		}
		if err != nil {
			errs = append(errs, PartnerError{Line: line, Fields: map[string]string{"line": "is not valid CSV"}})
			continue
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		p := Partner{ProjectCode: get("project_code"), Name: get("name"), Kind: get("kind"), Parent: get("parent"),
			NDASignedOn: civil.Date(get("nda_signed_on")), NDAExpiresOn: civil.Date(get("nda_expires_on")),
			EmbargoUntil: civil.Date(get("embargo_until"))}
		if n := get("contact_name"); n != "" || get("contact_email") != "" {
			p.Contacts = []Contact{{Name: n, Email: get("contact_email"), Role: get("contact_role")}}
		}
		p, err = Normalize(p)
		if err != nil {
			var pe *PartnerError
			if errors.As(err, &pe) {
				for k, v := range pe.Fields {
					if k == "contacts[0].name" || k == "contacts[0].email" || k == "contacts[0].role" {
						delete(pe.Fields, k)
						pe.Fields["contact_"+strings.TrimPrefix(k, "contacts[0].")] = v
					}
				}
				pe.Line = line
				errs = append(errs, *pe)
			}
			bad[PartnerID(p.ProjectCode, p.Name)] = true
			continue
		}
		id := PartnerID(p.ProjectCode, p.Name)
		if cur, ok := byID[id]; ok {
			if cur.Kind != p.Kind || cur.NDASignedOn != p.NDASignedOn || cur.NDAExpiresOn != p.NDAExpiresOn || cur.EmbargoUntil != p.EmbargoUntil {
				errs = append(errs, PartnerError{Line: line, Fields: map[string]string{"name": "repeats a partner with other kind or dates"}})
				bad[id] = true
				continue
			}
			cur.Contacts = append(cur.Contacts, p.Contacts...)
			continue
		}
		p.ID = id
		byID[id] = &p
		order = append(order, id)
	}
	var out []Partner
	for _, id := range order {
		if !bad[id] { // a partner with one bad line is left out whole, so no half-imported contacts
			out = append(out, *byID[id])
		}
	}
	return out, errs, nil
}

// Import reads a CSV and creates or updates its partners. Lines with
// errors are reported and their partners left unchanged; the rest are stored.
func (s *Partners) Import(ctx context.Context, a Actor, r io.Reader) (ImportResult, error) {
	var res ImportResult
	if err := s.guard(ctx, a, true, ""); err != nil {
		return res, err
	}
	ps, errs, err := ParseCSV(r)
	if err != nil {
		return res, err
	}
	res.Errors = errs
	now := s.Now().UTC()
	for _, p := range ps {
		cur, err := s.Store.Get(ctx, p.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			p.CreatedAt, p.UpdatedAt, p.Version = now, now, 1
			if err := s.Store.Create(ctx, p); err != nil {
				return res, err
			}
			res.Created++
		case err != nil:
			return res, err
		default:
			p.CreatedAt, p.UpdatedAt, p.Version = cur.CreatedAt, now, cur.Version
			if _, err := s.Store.Update(ctx, p); err != nil {
				return res, err
			}
			res.Updated++
		}
	}
	e := s.entry(a, ActionPartnerImport, "registry", map[string]string{"created": strconv.Itoa(res.Created),
		"updated": strconv.Itoa(res.Updated), "errors": strconv.Itoa(len(res.Errors))})
	return res, s.Audit.Append(ctx, e)
}

// ByProject lists partners without audit, for services that audit their own reads.
func (s *Partners) ByProject(ctx context.Context, project string) ([]Partner, error) {
	return s.Store.List(ctx, project)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

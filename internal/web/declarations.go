package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
)

// declForm is the declaration form as posted, kept as strings so a form
// with errors comes back exactly as typed.
type declForm struct {
	Kind, Counterparty, CounterpartyType, Topic string
	StartDate, EndDate                          string
	Paid                                        bool
	Amount, Currency, Notes                     string
	Renews                                      string // the declaration this one renews (renew.go)
}

func formOf(c *gin.Context) declForm {
	return declForm{
		Kind: c.PostForm("kind"), Counterparty: c.PostForm("counterparty"), CounterpartyType: c.PostForm("counterparty_type"),
		Topic: c.PostForm("topic"), StartDate: c.PostForm("start_date"), EndDate: c.PostForm("end_date"),
		Paid: c.PostForm("paid") != "", Amount: strings.TrimSpace(c.PostForm("amount")),
		Currency: strings.ToUpper(strings.TrimSpace(c.PostForm("currency"))), Notes: c.PostForm("notes"),
		Renews: strings.TrimSpace(c.PostForm("renews")),
	}
}

// input maps the form to the domain's input; validation is the domain's.
func (f declForm) input() disclosure.Input {
	in := disclosure.Input{
		Kind: disclosure.Kind(f.Kind), Counterparty: f.Counterparty, CounterpartyType: disclosure.CounterpartyType(f.CounterpartyType),
		Topic: f.Topic, StartDate: civil.Date(f.StartDate), EndDate: civil.Date(f.EndDate), Paid: f.Paid, Notes: f.Notes,
		Renews: f.Renews,
	}
	if in.EndDate == "" {
		in.EndDate = in.StartDate // a one-day engagement
	}
	if f.Paid {
		// An unpaid engagement carries no amount, whatever the hidden
		// amount field still holds (issue 14).
		in.Compensation = &disclosure.Compensation{Amount: f.Amount, Currency: f.Currency}
	}
	return in
}

func formFrom(d disclosure.Disclosure) declForm {
	f := declForm{Kind: string(d.Kind), Counterparty: d.Counterparty, CounterpartyType: string(d.CounterpartyType),
		Topic: d.Topic, StartDate: string(d.StartDate), EndDate: string(d.EndDate), Paid: d.Paid, Notes: d.Notes, Currency: "CNY"}
	if d.Compensation != nil {
		f.Amount, f.Currency = d.Compensation.Amount, d.Compensation.Currency
	}
	return f
}

// fieldErrors maps a validation error to messages by form field; other
// errors give nil.
func fieldErrors(l *lang, err error) map[string]string {
	var ve *disclosure.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	out := map[string]string{}
	for _, d := range ve.Details {
		field := d.Field
		switch field {
		case "compensation", "compensation.amount":
			field = "amount"
		case "compensation.currency":
			field = "currency"
		}
		msg := l.Label("validation", d.Message)
		if prev, ok := out[field]; ok {
			msg = prev + "; " + msg
		}
		out[field] = msg
	}
	return out
}

type declFormData struct {
	ID       string // empty for a new declaration
	Version  int64
	Form     declForm
	Errors   map[string]string
	Kinds    []disclosure.Kind
	CPTypes  []disclosure.CounterpartyType
	Action   string
	Status   disclosure.Status
	Decision *disclosure.Decision
	// TooLarge: the form was larger than the server takes; what arrived
	// is kept. Duplicates: the visitor declared this engagement already.
	TooLarge   bool
	Duplicates []disclosure.Disclosure
}

func (u *UI) formPage(c *gin.Context, status int, title string, d declFormData) {
	d.Kinds, d.CPTypes = disclosure.Kinds(), disclosure.CounterpartyTypes()
	u.render(c, status, "declaration_form", title, d)
}

func (u *UI) newDeclaration(c *gin.Context) {
	form := declForm{Kind: string(disclosure.KindPaidSeminar), Currency: "CNY"} // nothing is paid until said so
	if f, ok := u.renewalForm(c); ok {
		form = f
	}
	u.formPage(c, http.StatusOK, "decl.new.title", declFormData{Action: "/declarations", Form: form})
}

func (u *UI) createDeclaration(c *gin.Context) {
	f := formOf(c)
	if bodyTruncated(c) {
		u.formPage(c, http.StatusRequestEntityTooLarge, "decl.new.title", declFormData{Action: "/declarations", Form: f, TooLarge: true})
		return
	}
	if c.PostForm("confirm_duplicate") == "" {
		dups, err := u.d.Disclosures.Similar(c.Request.Context(), actor(c), f.input())
		if err != nil {
			u.failErr(c, err)
			return
		}
		if len(dups) > 0 {
			u.formPage(c, http.StatusOK, "decl.new.title", declFormData{Action: "/declarations", Form: f, Duplicates: dups})
			return
		}
	}
	d, err := u.d.Disclosures.Create(c.Request.Context(), actor(c), f.input())
	if fe := fieldErrors(langOf(c), err); fe != nil {
		u.formPage(c, http.StatusUnprocessableEntity, "decl.new.title", declFormData{Action: "/declarations", Form: f, Errors: fe})
		return
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	redirectDone(c, "/declarations/"+d.ID, "declared."+string(d.Status))
}

// validateDeclaration answers the form's inline validation: the same
// domain validation the API and the submit run, as JSON by field.
func (u *UI) validateDeclaration(c *gin.Context) {
	err := formOf(c).input().Validate(u.now(), u.cfg.Limits)
	errs := fieldErrors(langOf(c), err)
	if errs == nil {
		errs = map[string]string{}
	}
	c.JSON(http.StatusOK, gin.H{"errors": errs})
}

type declListData struct {
	Items []disclosure.Disclosure
	Next  string
}

func (u *UI) myDeclarations(c *gin.Context) {
	items, next, err := u.d.Disclosures.ListMine(c.Request.Context(), actor(c), disclosure.Page{Limit: 50, Cursor: c.Query("cursor")})
	if errors.Is(err, disclosure.ErrBadCursor) {
		c.Redirect(http.StatusSeeOther, "/declarations")
		return
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	u.render(c, http.StatusOK, "declarations", "decl.mine.title", declListData{Items: items, Next: next})
}

type declData struct {
	D            disclosure.Disclosure
	Mine         bool
	CanEdit      bool
	CanWithdraw  bool
	WithdrawErrs map[string]string
}

func (u *UI) declaration(c *gin.Context) {
	d, ok := u.loadDeclaration(c)
	if !ok {
		return
	}
	u.render(c, http.StatusOK, "declaration", "decl.detail.title", declDataOf(d, sessionOf(c).Subject))
}

func declDataOf(d disclosure.Disclosure, me string) declData {
	mine := d.EmployeeID == me
	return declData{D: d, Mine: mine, CanEdit: mine && d.Status != disclosure.StatusWithdrawn,
		CanWithdraw: mine && (d.Status == disclosure.StatusPending || d.Status == disclosure.StatusApproved)}
}

func (u *UI) loadDeclaration(c *gin.Context) (disclosure.Disclosure, bool) {
	id := c.Param("id")
	if !disclosure.ValidID(id) {
		u.errorPage(c, http.StatusNotFound, "error.notfound")
		return disclosure.Disclosure{}, false
	}
	d, err := u.d.Disclosures.Get(c.Request.Context(), actor(c), id)
	if err != nil {
		u.failErr(c, err)
		return disclosure.Disclosure{}, false
	}
	return d, true
}

func (u *UI) editDeclaration(c *gin.Context) {
	d, ok := u.loadDeclaration(c)
	if !ok {
		return
	}
	if d.EmployeeID != sessionOf(c).Subject {
		u.errorPage(c, http.StatusForbidden, "error.forbidden")
		return
	}
	u.formPage(c, http.StatusOK, "decl.edit.title", declFormData{ID: d.ID, Version: d.Version, Action: "/declarations/" + d.ID + "/edit",
		Form: formFrom(d), Status: d.Status, Decision: d.Decision})
}

func (u *UI) updateDeclaration(c *gin.Context) {
	id := c.Param("id")
	if !disclosure.ValidID(id) {
		u.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	f := formOf(c)
	if bodyTruncated(c) {
		u.formPage(c, http.StatusRequestEntityTooLarge, "decl.edit.title", declFormData{ID: id, Action: "/declarations/" + id + "/edit", Form: f, TooLarge: true})
		return
	}
	d, err := u.d.Disclosures.Edit(c.Request.Context(), actor(c), id, f.input())
	if fe := fieldErrors(langOf(c), err); fe != nil {
		u.formPage(c, http.StatusUnprocessableEntity, "decl.edit.title", declFormData{ID: id, Action: "/declarations/" + id + "/edit", Form: f, Errors: fe})
		return
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	redirectDone(c, "/declarations/"+d.ID, "edited")
}

func (u *UI) withdrawDeclaration(c *gin.Context) {
	id := c.Param("id")
	if !disclosure.ValidID(id) {
		u.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	d, err := u.d.Disclosures.Withdraw(c.Request.Context(), actor(c), id, strings.TrimSpace(c.PostForm("comment")))
	if fe := fieldErrors(langOf(c), err); fe != nil {
		cur, ok := u.loadDeclaration(c)
		if !ok {
			return
		}
		data := declDataOf(cur, sessionOf(c).Subject)
		data.WithdrawErrs = fe
		u.render(c, http.StatusUnprocessableEntity, "declaration", "decl.detail.title", data)
		return
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	redirectDone(c, "/declarations/"+d.ID, "withdrawn")
}

// BodyTruncatedKey is set on a page request whose body was larger than the
// server takes (httpapi's limit): the form then comes back with what fit
// and a message, never a JSON error page (issue 14).
const BodyTruncatedKey = "moonlight.body_truncated"

func bodyTruncated(c *gin.Context) bool { return c.GetBool(BodyTruncatedKey) }

// keepsTruncatedForm reports whether the request is a declaration form,
// whose page shows what fit of a too-large body (createDeclaration,
// updateDeclaration); every other form refuses it.
func keepsTruncatedForm(c *gin.Context) bool {
	p := c.Request.URL.Path
	return p == "/declarations" || strings.HasPrefix(p, "/declarations/") && strings.HasSuffix(p, "/edit")
}

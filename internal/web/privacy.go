package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/review"
)

// Issue 15 in the UI: the case page shows what review.Service's view lets
// the reader see (a pseudonym, or the person after an unmask grant), an
// "Unmask" form with a reason, and the four-eyes answer for a second
// reviewer; privacy officers decide unmask requests on their own page.

// who is how the case page names its subject.
type who struct {
	// Label is the pseudonym when masked, else the name.
	Label string
	// ID is the employee id, empty when masked.
	ID string
}

func (u *UI) registerPrivacy(anyone *gin.RouterGroup) {
	anyone.POST("/cases/:id/unmask", u.unmaskCase)
	anyone.POST("/cases/:id/confirmation", u.confirmCase)
	anyone.GET("/privacy/unmask-requests", u.unmaskRequests)
	anyone.POST("/privacy/unmask-requests/:id/decide", u.decideUnmask)
}

func (u *UI) unmaskCase(c *gin.Context) {
	reason := strings.TrimSpace(c.PostForm("reason"))
	_, r, err := u.d.Cases.RequestUnmask(c.Request.Context(), reviewActor(c, "unmask request"), c.Param("id"), reason)
	if errors.Is(err, review.ErrInvalid) {
		u.renderCase(c, http.StatusUnprocessableEntity, "", "", "case.error.unmask")
		return
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	flash := "case.unmasked"
	if r.Status == review.UnmaskPending {
		flash = "case.unmask.requested"
	}
	redirectDone(c, "/cases/"+url.PathEscape(c.Param("id")), flash)
}

func (u *UI) confirmCase(c *gin.Context) {
	agree := c.PostForm("agree") == "true"
	_, err := u.d.Cases.Confirm(c.Request.Context(), reviewActor(c, "case confirmation"), c.Param("id"), formVersion(c), agree, c.PostForm("reason"))
	if errors.Is(err, review.ErrInvalid) {
		u.renderCase(c, http.StatusUnprocessableEntity, "", "", "case.error.reason")
		return
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	flash := "case.confirmed2"
	if !agree {
		flash = "case.confirm.declined"
	}
	redirectDone(c, "/cases/"+url.PathEscape(c.Param("id")), flash)
}

type unmaskRequestsData struct {
	Items []review.UnmaskRequest
	Error string
}

func (u *UI) unmaskRequests(c *gin.Context) {
	rs, err := u.d.Cases.UnmaskRequests(c.Request.Context(), reviewActor(c, "unmask requests"), review.UnmaskPending)
	if err != nil {
		u.failErr(c, err)
		return
	}
	u.render(c, http.StatusOK, "unmask_requests", "unmask.title", unmaskRequestsData{Items: rs})
}

func (u *UI) decideUnmask(c *gin.Context) {
	decision := c.PostForm("decision")
	_, err := u.d.Cases.DecideUnmask(c.Request.Context(), reviewActor(c, "unmask decision"), c.Param("id"), decision,
		c.PostForm("comment"), formVersion(c))
	if err != nil {
		u.failErr(c, err)
		return
	}
	redirectDone(c, "/privacy/unmask-requests", "unmask."+decision)
}

package web

import (
	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
)

// renewalForm is the new-declaration form prefilled from the declaration
// ?renews= names (the signed-in employee's own approved one): the same
// engagement from the day its approval lapses, linked to it. Anything else
// gives the empty form; the service checks the link again on submit.
func (u *UI) renewalForm(c *gin.Context) (declForm, bool) {
	id := c.Query("renews")
	if id == "" || !disclosure.ValidID(id) {
		return declForm{}, false
	}
	a := actor(c)
	d, err := u.d.Disclosures.Get(c.Request.Context(), a, id)
	if err != nil || d.EmployeeID != a.ID || d.Status != disclosure.StatusApproved {
		return declForm{}, false
	}
	f := formFrom(disclosure.Disclosure{ID: d.ID, Input: disclosure.RenewalInput(d, civil.Of(u.now()))})
	f.Renews = d.ID
	return f, true
}

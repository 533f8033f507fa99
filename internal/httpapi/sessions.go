package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/session"
)

// SessionRoutes lets an admin end every web session of a person at once
// (a lost laptop, a role withdrawn). session.Revoker decides who may, and
// audits the revocation and any refusal.
type SessionRoutes struct {
	Revoker *session.Revoker
}

// Register implements Routes.
func (h SessionRoutes) Register(api *gin.RouterGroup) {
	api.DELETE("/people/:id/sessions", h.revoke)
}

// MapSessionErrors maps the session package's errors; register it in Config.Mappers.
func MapSessionErrors(err error) (*Error, bool) {
	if errors.Is(err, session.ErrForbidden) {
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "only an admin revokes sessions"}, true
	}
	return nil, false
}

func (h SessionRoutes) revoke(c *gin.Context) {
	id := c.Param("id")
	if !refPattern.MatchString(id) {
		_ = c.Error(BadRequest("invalid_id", "the person id is malformed", Detail{Field: "id", Message: "must be an employee id"}))
		return
	}
	if _, err := query(c); err != nil {
		_ = c.Error(err)
		return
	}
	p, _ := auth.FromContext(c)
	n, err := h.Revoker.RevokeAll(c.Request.Context(), session.Actor{ID: p.Subject, Roles: p.Roles, RequestID: RequestID(c)}, id)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"revoked": n})
}

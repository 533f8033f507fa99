package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/rights"
)

// RightsRoutes serves the employee's access to their own data and the
// privacy officer's export for a subject-access request (rights.Service
// decides who may, and audits both).
type RightsRoutes struct {
	Service *rights.Service
}

// Register implements Routes; it reads no dependency.
func (h RightsRoutes) Register(api *gin.RouterGroup) {
	anyone := auth.Require(auth.RoleEmployee)
	api.GET("/me/data", anyone, h.myData)
	api.GET("/privacy/employees/:id/export", anyone, h.export)
}

// MapRightsErrors maps the rights package's errors; register it in Config.Mappers.
func MapRightsErrors(err error) (*Error, bool) {
	switch {
	case errors.Is(err, rights.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "you may not export this employee's data (privacy officers only, never their own)"}, true
	case errors.Is(err, rights.ErrNotFound):
		return NotFound("employee data"), true
	case errors.Is(err, rights.ErrInvalid):
		return BadRequest("invalid_query", strings.TrimSuffix(err.Error(), ": "+rights.ErrInvalid.Error()), Detail{Field: "reason", Message: "is too long"}), true
	}
	return nil, false
}

func rightsActor(c *gin.Context) rights.Actor {
	id, roles, rid := principal(c)
	return rights.Actor{ID: id, Roles: roles, RequestID: rid}
}

func formatParam(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return BadRequest("invalid_query", "unknown format", Detail{Field: "format", Message: "must be one of " + strings.Join(allowed[1:], ", ")})
}

func (h RightsRoutes) myData(c *gin.Context) {
	q, err := query(c, "format")
	if err == nil {
		err = formatParam(q["format"], "", "json", "csv")
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	format := q["format"]
	if format == "" {
		format = "json"
	}
	d, err := h.Service.MyData(c.Request.Context(), rightsActor(c), format)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if format == "csv" {
		var buf bytes.Buffer
		if err := d.WriteCSVZip(&buf); err != nil {
			_ = c.Error(err)
			return
		}
		c.Header("Content-Disposition", `attachment; filename="my-data-`+d.EmployeeID+`.zip"`)
		c.Data(http.StatusOK, "application/zip", buf.Bytes())
		return
	}
	c.JSON(http.StatusOK, d.JSON())
}

func (h RightsRoutes) export(c *gin.Context) {
	id := c.Param("id")
	if !refPattern.MatchString(id) {
		_ = c.Error(NotFound("employee data"))
		return
	}
	q, err := query(c, "format", "reason")
	if err == nil {
		err = formatParam(q["format"], "", "json", "zip")
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	b, err := h.Service.Export(c.Request.Context(), rightsActor(c), id, q["reason"])
	if err != nil {
		_ = c.Error(err)
		return
	}
	var buf bytes.Buffer
	if q["format"] == "zip" {
		if err := b.WriteZip(&buf); err != nil {
			_ = c.Error(err)
			return
		}
		c.Header("Content-Disposition", `attachment; filename="export-`+id+`.zip"`)
		c.Data(http.StatusOK, "application/zip", buf.Bytes())
		return
	}
	if err := b.WriteJSON(&buf); err != nil {
		_ = c.Error(err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", buf.Bytes())
}

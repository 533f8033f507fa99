package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/rights"
)

// Rights answers "my data" and privacy officers' exports (rights.Service:
// it decides who may and audits both).
type Rights interface {
	MyData(ctx context.Context, a rights.Actor, format string) (rights.Data, error)
	Export(ctx context.Context, a rights.Actor, employeeID, reason string) (rights.Bundle, error)
}

// registerRights adds the "My data" page and the privacy officer's export
// when the dependency is given.
func (u *UI) registerRights(anyone *gin.RouterGroup) {
	if u.d.Rights == nil {
		return
	}
	anyone.GET("/my-data", u.myData)
	anyone.GET("/my-data/download", u.myDataDownload)
	anyone.GET("/privacy/export", u.privacyExport)
}

func rightsActorOf(c *gin.Context) rights.Actor {
	s := sessionOf(c)
	return rights.Actor{ID: s.Subject, Roles: s.Roles, RequestID: c.GetString("request_id")}
}

func (u *UI) myData(c *gin.Context) {
	d, err := u.d.Rights.MyData(c.Request.Context(), rightsActorOf(c), "page")
	if err != nil {
		u.failRights(c, err)
		return
	}
	u.render(c, http.StatusOK, "mydata", "mydata.title", d)
}

func (u *UI) myDataDownload(c *gin.Context) {
	format := c.Query("format")
	if format != "csv" && format != "json" {
		u.errorPage(c, http.StatusBadRequest, "error.badrequest")
		return
	}
	d, err := u.d.Rights.MyData(c.Request.Context(), rightsActorOf(c), format)
	if err != nil {
		u.failRights(c, err)
		return
	}
	var buf bytes.Buffer
	if format == "csv" {
		if err := d.WriteCSVZip(&buf); err != nil {
			u.fail(c, err)
			return
		}
		c.Header("Content-Disposition", `attachment; filename="my-data-`+d.EmployeeID+`.zip"`)
		c.Data(http.StatusOK, "application/zip", buf.Bytes())
		return
	}
	c.Header("Content-Disposition", `attachment; filename="my-data-`+d.EmployeeID+`.json"`)
	c.JSON(http.StatusOK, d.JSON())
}

type exportPage struct {
	Employee, Reason string
}

// privacyExport is the privacy officer's form; with an employee it
// downloads the zip (the service checks the role, audits, refuses one's own).
func (u *UI) privacyExport(c *gin.Context) {
	id := strings.TrimSpace(c.Query("employee"))
	if id == "" {
		if !sessionOf(c).has(auth.RolePrivacyOfficer) {
			u.errorPage(c, http.StatusForbidden, "error.forbidden")
			return
		}
		u.render(c, http.StatusOK, "privacy_export", "privexport.title", exportPage{})
		return
	}
	b, err := u.d.Rights.Export(c.Request.Context(), rightsActorOf(c), id, c.Query("reason"))
	if err != nil {
		u.failRights(c, err)
		return
	}
	var buf bytes.Buffer
	if err := b.WriteZip(&buf); err != nil {
		u.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="export-`+b.EmployeeID+`.zip"`)
	c.Data(http.StatusOK, "application/zip", buf.Bytes())
}

func (u *UI) failRights(c *gin.Context, err error) {
	switch {
	case errors.Is(err, rights.ErrForbidden):
		u.errorPage(c, http.StatusForbidden, "error.forbidden")
	case errors.Is(err, rights.ErrNotFound):
		u.errorPage(c, http.StatusNotFound, "error.notfound")
	case errors.Is(err, rights.ErrInvalid):
		u.errorPage(c, http.StatusBadRequest, "error.badrequest")
	default:
		u.fail(c, err)
	}
}

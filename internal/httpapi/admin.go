package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// Rescanner re-evaluates stored events (review.Rescan).
type Rescanner interface {
	Run(ctx context.Context) (review.RescanResult, error)
}

// AdminRoutes serves the admin operations: reload the rules and watchlist,
// show the watchlist, rescan stored events. Use a pointer: it remembers
// whether a rescan is running.
type AdminRoutes struct {
	Rules  *review.RuleHolder
	Rescan Rescanner
	Audit  audit.Store
	Now    func() time.Time

	rescanning atomic.Bool
}

// Register implements Routes.
func (h *AdminRoutes) Register(api *gin.RouterGroup) {
	admin := auth.Require(auth.RoleAdmin)
	api.GET("/admin/watchlist", admin, h.watchlist)
	api.POST("/admin/watchlist/reload", admin, h.reload)
	api.POST("/admin/rescan", admin, h.rescan)
}

type counterpartyJSON struct {
	ID      string   `json:"id"`
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	NameZH  string   `json:"name_zh,omitempty"`
	Aliases []string `json:"aliases"`
}

func (h *AdminRoutes) watchlist(c *gin.Context) {
	if _, err := query(c); err != nil {
		_ = c.Error(err)
		return
	}
	_, wl := h.Rules.Current()
	items := []counterpartyJSON{}
	for _, e := range wl.Entries() {
		aliases := append([]string{}, e.Aliases...)
		items = append(items, counterpartyJSON{ID: e.ID, Type: e.Type, Name: e.Name, NameZH: e.NameZH, Aliases: aliases})
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "count": len(items)})
}

func (h *AdminRoutes) reload(c *gin.Context) {
	if err := bindJSON(c, &struct{}{}, true); err != nil {
		_ = c.Error(err)
		return
	}
	rs, err := h.Rules.Reload()
	if err != nil {
		// The admin needs to know what is wrong with the file; the old rules stay.
		msg := err.Error()
		if len(msg) > 1000 {
			msg = msg[:1000]
		}
		_ = c.Error(&Error{Status: http.StatusUnprocessableEntity, Code: "invalid_rules",
			Message: "the rules or watchlist could not be loaded; the previous ones stay in force", Details: []Detail{{Message: msg}}, Err: err})
		return
	}
	n := rs.Watchlist.Len()
	if err := h.record(c, audit.ActionWatchlistReload, "reloaded by an admin", map[string]string{
		"counterparties": strconv.Itoa(n), "vocabulary": strconv.Itoa(len(rs.Config.Vocabulary)),
	}); err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"counterparties": n, "vocabulary": len(rs.Config.Vocabulary),
		"hint": "POST /api/v1/admin/rescan re-evaluates stored events with the new rules"})
}

func (h *AdminRoutes) rescan(c *gin.Context) {
	if err := bindJSON(c, &struct{}{}, true); err != nil {
		_ = c.Error(err)
		return
	}
	if !h.rescanning.CompareAndSwap(false, true) {
		_ = c.Error(&Error{Status: http.StatusConflict, Code: "rescan_running", Message: "a rescan is already running"})
		return
	}
	defer h.rescanning.Store(false)
	start := h.Now()
	res, err := h.Rescan.Run(c.Request.Context())
	if err != nil {
		_ = c.Error(err)
		return
	}
	if err := h.record(c, audit.ActionRescan, "rescan requested by an admin", map[string]string{
		"events": strconv.Itoa(res.Events), "employees": strconv.Itoa(res.Employees),
		"signals": strconv.Itoa(res.Signals), "seminars": strconv.Itoa(res.Seminars),
	}); err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"events": res.Events, "employees": res.Employees, "signals": res.Signals,
		"seminars": res.Seminars, "ms": h.Now().Sub(start).Milliseconds()})
}

func (h *AdminRoutes) record(c *gin.Context, action audit.Action, reason string, details map[string]string) error {
	p, _ := auth.FromContext(c)
	return h.Audit.Append(c.Request.Context(), audit.Entry{
		ID: audit.NewID(), At: h.Now(), Actor: p.Subject, ActorRoles: p.Roles, Action: action,
		ResourceType: audit.ResourceWatchlist, Reason: reason, Details: details, RequestID: RequestID(c),
	})
}

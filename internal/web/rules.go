package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/rescan"
	"github.com/moonlight-oss/moonlight/internal/ruleset"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// RuleAdmin changes the versioned rule set (ruleset.Service: it checks the
// admin role and audits).
type RuleAdmin interface {
	Current(ctx context.Context, c ruleset.Caller) (*ruleset.Set, error)
	AddCounterparty(ctx context.Context, c ruleset.Caller, cp watchlist.Counterparty, base int64) (*ruleset.Set, error)
	UpdateCounterparty(ctx context.Context, c ruleset.Caller, cp watchlist.Counterparty, base int64) (*ruleset.Set, error)
	RetireCounterparty(ctx context.Context, c ruleset.Caller, id string, base int64) (*ruleset.Set, error)
}

// RescanAdmin starts rescan jobs and reports progress (rescan.Runner).
type RescanAdmin interface {
	Start(ctx context.Context, c rescan.Caller) (rescan.Job, error)
	Progress(ctx context.Context, c rescan.Caller, id string) (rescan.Progress, error)
}

// RegisterAdmin adds the admin page (rules, counterparties, rescans) when
// the dependencies are given.
func (u *UI) registerAdmin(g *gin.RouterGroup) {
	if u.d.Rules == nil {
		return
	}
	// The rule-set service and the rescan runner decide who may read and
	// change (admins; refusals audited there): the pages need someone
	// signed in.
	anyone := g.Group("", u.need(auth.RoleEmployee))
	anyone.GET("/admin/rules", u.rulesPage)
	anyone.POST("/admin/counterparties", u.saveCounterparty)
	anyone.POST("/admin/counterparties/:id/retire", u.retireCounterparty)
	anyone.POST("/admin/rescans", u.startRescan)
}

type rulesData struct {
	Set      *ruleset.Set
	Items    []watchlist.Counterparty
	Form     watchlist.Counterparty
	Aliases  string
	Editing  bool
	Error    string
	Rescan   *rescan.Progress
	Types    []string
	Percent  int64
	Rescans  bool
	ErrorMsg string
}

func ruleCaller(c *gin.Context) ruleset.Caller {
	s := sessionOf(c)
	return ruleset.Caller{Principal: auth.Principal{Subject: s.Subject, Roles: s.Roles}, RequestID: c.GetString("request_id")}
}

func rescanCaller(c *gin.Context) rescan.Caller {
	s := sessionOf(c)
	return rescan.Caller{ID: s.Subject, Roles: s.Roles, RequestID: c.GetString("request_id")}
}

func (u *UI) rulesPage(c *gin.Context) {
	data := rulesData{}
	if id := c.Query("edit"); id != "" {
		data.Editing = true
		data.Form.ID = id
	}
	u.showRules(c, http.StatusOK, data)
}

func (u *UI) showRules(c *gin.Context, status int, data rulesData) {
	set, err := u.d.Rules.Current(c.Request.Context(), ruleCaller(c))
	if err != nil {
		u.failRules(c, err)
		return
	}
	data.Set, data.Items = set, set.Watchlist.Entries()
	data.Types = []string{watchlist.TypeExpertNetwork, watchlist.TypeBrokerage, watchlist.TypeInvestmentFirm}
	if data.Editing && data.Form.Name == "" {
		if cp, ok := set.Watchlist.Get(data.Form.ID); ok {
			data.Form, data.Aliases = cp, strings.Join(cp.Aliases, ", ")
		}
	}
	if u.d.Rescans != nil {
		data.Rescans = true
		if p, err := u.d.Rescans.Progress(c.Request.Context(), rescanCaller(c), "latest"); err == nil {
			data.Rescan = &p
			if p.Job.TotalEvents > 0 {
				data.Percent = min(100, p.Last.Events*100/p.Job.TotalEvents)
			}
		} else if !errors.Is(err, rescan.ErrNotFound) {
			u.failRules(c, err)
			return
		}
	}
	u.render(c, status, "rules", "rules.title", data)
}

func (u *UI) failRules(c *gin.Context, err error) {
	switch {
	case errors.Is(err, ruleset.ErrForbidden), errors.Is(err, rescan.ErrForbidden):
		u.errorPage(c, http.StatusForbidden, "error.forbidden")
	case errors.Is(err, ruleset.ErrNotFound):
		u.errorPage(c, http.StatusNotFound, "error.notfound")
	case errors.Is(err, ruleset.ErrStale), errors.Is(err, ruleset.ErrConflict):
		u.errorPage(c, http.StatusConflict, "error.conflict")
	default:
		u.fail(c, err)
		return
	}
	c.Abort()
}

func (u *UI) saveCounterparty(c *gin.Context) {
	cp := watchlist.Counterparty{ID: strings.TrimSpace(c.PostForm("id")), Type: c.PostForm("type"),
		Name: strings.TrimSpace(c.PostForm("name")), NameZH: strings.TrimSpace(c.PostForm("name_zh"))}
	aliases := c.PostForm("aliases")
	for _, a := range strings.Split(aliases, ",") {
		if a = strings.TrimSpace(a); a != "" {
			cp.Aliases = append(cp.Aliases, a)
		}
	}
	editing := c.PostForm("mode") == "edit"
	data := rulesData{Form: cp, Aliases: aliases, Editing: editing}
	if cp.ID == "" {
		data.Error = "rules.error.id"
		u.showRules(c, http.StatusBadRequest, data)
		return
	}
	var err error
	if editing {
		_, err = u.d.Rules.UpdateCounterparty(c.Request.Context(), ruleCaller(c), cp, 0)
	} else {
		_, err = u.d.Rules.AddCounterparty(c.Request.Context(), ruleCaller(c), cp, 0)
	}
	if errors.Is(err, ruleset.ErrInvalid) {
		// The validation message names the entry and the rule it breaks.
		data.Error, data.ErrorMsg = "rules.error.invalid", strings.ReplaceAll(err.Error(), ruleset.ErrInvalid.Error()+": ", "")
		u.showRules(c, http.StatusUnprocessableEntity, data)
		return
	}
	if err != nil {
		u.failRules(c, err)
		return
	}
	redirectDone(c, "/admin/rules", "rules_saved")
}

func (u *UI) retireCounterparty(c *gin.Context) {
	if _, err := u.d.Rules.RetireCounterparty(c.Request.Context(), ruleCaller(c), c.Param("id"), 0); err != nil {
		u.failRules(c, err)
		return
	}
	redirectDone(c, "/admin/rules", "rules_retired")
}

func (u *UI) startRescan(c *gin.Context) {
	if u.d.Rescans == nil {
		u.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	_, err := u.d.Rescans.Start(c.Request.Context(), rescanCaller(c))
	if err != nil && !errors.Is(err, rescan.ErrRunning) {
		u.failRules(c, err)
		return
	}
	redirectDone(c, "/admin/rules", "rescan_started")
}

var messagesRulesEN = map[string]string{
	"nav.rules": "Rules", "rules.title": "Rules and watchlist",
	"rules.lead":    "Detection rules and counterparties are one versioned rule set shared by every replica; each change makes a new version, audited with its diff.",
	"rules.version": "Version in force", "rules.change": "last change", "rules.by": "by",
	"rules.id": "Id", "rules.type": "Type", "rules.name": "Name", "rules.name_zh": "Chinese name",
	"rules.aliases": "Aliases", "rules.aliases.hint": "Comma-separated. Keep them distinctive: no bare prefixes shared with banks, hotels or car makers.",
	"rules.add": "Add a counterparty", "rules.edit": "Edit", "rules.save": "Save", "rules.retire": "Retire",
	"rules.counterparties": "Counterparties", "rules.retired": "Retired",
	"rules.error.id": "An id is required.", "rules.error.invalid": "The watchlist would not be valid; nothing changed:",
	"rules.rescan": "Rescan", "rules.rescan.lead": "Re-evaluate every stored event with the version in force. The job survives restarts; any replica finishes it.",
	"rules.rescan.start": "Start a rescan", "rules.rescan.none": "No rescan has run yet.",
	"rules.rescan.stage": "Stage", "rules.rescan.events": "Events", "rules.rescan.employees": "Employees re-evaluated",
	"rules.rescan.done": "Done", "rules.rescan.running": "Running",
	"flash.rules_saved": "Saved: a new rule-set version is in force.", "flash.rules_retired": "Retired: a new rule-set version is in force.",
	"flash.rescan_started": "Rescan started (or already running); progress shows below.",
}

var messagesRulesZH = map[string]string{
	"nav.rules": "规则", "rules.title": "规则与关注名单",
	"rules.lead":    "检测规则与机构名单是所有副本共用的一份带版本的规则集；每次修改生成新版本，并连同差异记入审计。",
	"rules.version": "当前版本", "rules.change": "最近修改", "rules.by": "操作人",
	"rules.id": "编号", "rules.type": "类型", "rules.name": "名称", "rules.name_zh": "中文名称",
	"rules.aliases": "别名", "rules.aliases.hint": "以逗号分隔。请保持别名有辨识度：不要使用与银行、酒店或车企共用的前缀。",
	"rules.add": "新增机构", "rules.edit": "编辑", "rules.save": "保存", "rules.retire": "停用",
	"rules.counterparties": "机构", "rules.retired": "已停用",
	"rules.error.id": "编号为必填项。", "rules.error.invalid": "修改后名单无效，未作任何更改：",
	"rules.rescan": "重新扫描", "rules.rescan.lead": "用当前版本重新评估所有已存事件。任务在重启后继续，任一副本都可完成。",
	"rules.rescan.start": "开始重新扫描", "rules.rescan.none": "尚未运行过重新扫描。",
	"rules.rescan.stage": "阶段", "rules.rescan.events": "事件", "rules.rescan.employees": "已重新评估的员工",
	"rules.rescan.done": "已完成", "rules.rescan.running": "进行中",
	"flash.rules_saved": "已保存：新的规则集版本已生效。", "flash.rules_retired": "已停用：新的规则集版本已生效。",
	"flash.rescan_started": "重新扫描已开始（或已在进行）；进度见下方。",
}

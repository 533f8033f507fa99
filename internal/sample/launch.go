package sample

import (
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
)

// The launch story: MS11 (the confidential Moonshot 11 sedan, launch in
// LaunchMS11 days) has the insiders the HR assignments name; partners under
// NDA (a media outlet, the body supplier and its die-casting sub-supplier,
// whose NDA lapsed); and spy photos of the car appeared on Weibo
// DayMS11Leak days ago. The back-trace of that leak puts 张伟 (E1012) first:
// he claimed a 中信证券 consulting fee on the day of 中信证券's seminar on
// 800V drives and new models, and took a taxi to 国泰君安's electric-drive
// expert meeting, both brokerages, both in the window. The die-casting
// sub-supplier's contact follows (no valid NDA on the day). Insiders with
// no evidence are listed at 0; 李娜 (E1015), who left MS11 twelve days before
// the photos appeared, is on the insider list with her exit date, not in the
// back-trace. Every MS11 and MX9 insider is asked to
// attest when the demo loads the assignments (due in five days).

// DayMS11Leak is when the MS11 photos were first seen, in days from today.
const DayMS11Leak = -8

// LaunchProject is the project of the launch story.
const LaunchProject = "MS11"

// SamplePartner is a partner the demo registers (as an admin, through the
// same service the API uses).
type SamplePartner struct {
	ProjectCode  string
	Name         string
	Kind         string
	Parent       string
	NDASignedOn  civil.Date
	NDAExpiresOn civil.Date
	EmbargoUntil civil.Date
	Contacts     []SampleContact
}

// SampleContact is a named contact at a partner.
type SampleContact struct{ Name, Email, Role string }

// Partners returns the MS11 partners, dated for the day of now.
func Partners(now time.Time) []SamplePartner {
	g := &generator{today: Today(now)}
	return []SamplePartner{
		{ProjectCode: LaunchProject, Name: "汽车之家", Kind: "media", NDASignedOn: g.day(-200), EmbargoUntil: g.day(LaunchMS11),
			Contacts: []SampleContact{{"陈晓", "chen.xiao@autohome.example.com", "新车频道主编"}, {"刘畅", "liu.chang@autohome.example.com", "摄影师"}}},
		{ProjectCode: LaunchProject, Name: "华东精密车身有限公司", Kind: "supplier", NDASignedOn: g.day(-320), NDAExpiresOn: g.day(400),
			Contacts: []SampleContact{{"王建国", "wang.jianguo@hdbody.example.com", "项目经理"}}},
		{ProjectCode: LaunchProject, Name: "苏州精密压铸有限公司", Kind: "sub_supplier", Parent: "华东精密车身有限公司",
			NDASignedOn: g.day(-400), NDAExpiresOn: g.day(-30),
			Contacts: []SampleContact{{"周涛", "zhou.tao@szdiecast.example.com", "模具工程师"}}},
	}
}

// SampleIncident is a leak the demo records (as the compliance officer).
type SampleIncident struct {
	ProjectCode string
	FirstSeenOn civil.Date
	Kind        string
	Where       string
	Links       []string
	Keywords    []string
}

// Incidents returns the launch story's leak, dated for the day of now.
func Incidents(now time.Time) []SampleIncident {
	g := &generator{today: Today(now)}
	return []SampleIncident{{
		ProjectCode: LaunchProject, FirstSeenOn: g.day(DayMS11Leak), Kind: "photos",
		Where:    "微博：MS11 无伪装谍照及 800V 电驱参数截图",
		Links:    []string{"https://weibo.example.com/ms11-spy-photos"},
		Keywords: []string{"新车型", "中型轿车", "电驱"},
	}}
}

// LaunchTop is who the sample back-trace should put first.
const LaunchTop = "E1012"

package sample

import "fmt"

// Departments of the demo company.
const (
	DeptExecutive  = "Executive Office"
	DeptPowertrain = "EV Powertrain"
	DeptCabin      = "Smart Cabin"
	DeptAD         = "Autonomous Driving"
	DeptSupply     = "Supply Chain"
	DeptDesign     = "Design"
	DeptMarketing  = "Marketing"
	DeptFinance    = "Finance"
	DeptHR         = "HR"
	DeptCompliance = "Compliance"
	DeptIT         = "IT"
)

const emailDomain = "moonlight-motors.example.com"

// person is an employee as hired; later changes are in updates. Days are
// offsets from today (negative is the past); left == 0 means still employed.
type person struct {
	id, name, login, dept, title, manager, city string
	hired, left                                 int
	reason                                      string
}

// staff is the whole company, past and present. Story characters are marked.
func staff() []person {
	return []person{
		{"E1001", "林海", "lin.hai", DeptExecutive, "Chief Executive Officer", "", "Beijing", -2900, 0, ""},

		{"E1002", "周敏", "zhou.min", DeptFinance, "Chief Financial Officer", "E1001", "Beijing", -2600, 0, ""},
		{"E1003", "钱磊", "qian.lei", DeptFinance, "Financial Controller", "E1002", "Beijing", -1900, 0, ""},
		{"E1004", "孙悦", "sun.yue", DeptFinance, "Senior Accountant", "E1003", "Beijing", -1200, 0, ""},
		{"E1005", "吕倩", "lv.qian", DeptFinance, "Expense Auditor", "E1003", "Wuhan", -700, 0, ""},

		{"E1006", "郭静", "guo.jing", DeptHR, "HR Director", "E1001", "Beijing", -2400, 0, ""},
		{"E1007", "潘婷", "pan.ting", DeptHR, "HR Business Partner", "E1006", "Shanghai", -1000, 0, ""},
		{"E1008", "杜鹏", "du.peng", DeptHR, "Recruiter", "E1006", "Shenzhen", -500, 0, ""},

		{"E1010", "黄志强", "huang.zhiqiang", DeptPowertrain, "VP, EV Powertrain", "E1001", "Shanghai", -2700, 0, ""},
		{"E1011", "马超", "ma.chao", DeptPowertrain, "Director, Electric Drive Systems", "E1010", "Shanghai", -2100, 0, ""},
		{"E1012", "张伟", "zhang.wei", DeptPowertrain, "Motor Control Engineer", "E1011", "Shanghai", -1500, 0, ""}, // story
		// He Lin joined Smart Cabin and moved to EV Powertrain (see updates).
		{"E1013", "何琳", "he.lin", DeptCabin, "Embedded Software Engineer", "E1031", "Shenzhen", -800, 0, ""},
		{"E1014", "高翔", "gao.xiang", DeptPowertrain, "Battery Systems Manager", "E1010", "Shanghai", -1800, 0, ""},
		{"E1015", "李娜", "li.na", DeptPowertrain, "Battery Systems Engineer", "E1014", "Shanghai", -1100, -20, "resigned"}, // story
		{"E1016", "罗军", "luo.jun", DeptPowertrain, "Validation Engineer", "E1014", "Wuhan", -600, 0, ""},
		{"E1017", "谢芳", "xie.fang", DeptPowertrain, "Cell Chemistry Engineer", "E1014", "Wuhan", -950, 0, ""},
		{"E1018", "韦强", "wei.qiang", DeptPowertrain, "Motor Design Engineer", "E1011", "Shanghai", -150, 0, ""},
		{"E1019", "邓超", "deng.chao", DeptPowertrain, "Powertrain Calibration Engineer", "E1011", "Shanghai", -1000, -260, "resigned"},
		{"E1020", "陈静", "chen.jing", DeptPowertrain, "Thermal Management Lead", "E1010", "Shanghai", -1300, 0, ""},       // story
		{"E1022", "赵敏", "zhao.min", DeptPowertrain, "Senior Electric Drive Engineer", "E1011", "Shanghai", -1600, 0, ""}, // story

		{"E1030", "王芳", "wang.fang", DeptCabin, "VP, Smart Cabin", "E1001", "Shenzhen", -2300, 0, ""},
		{"E1031", "杨帆", "yang.fan", DeptCabin, "HMI Design Lead", "E1030", "Shenzhen", -1400, 0, ""}, // story
		{"E1032", "曹宇", "cao.yu", DeptCabin, "Infotainment Software Engineer", "E1031", "Shenzhen", -700, 0, ""},
		{"E1033", "许晴", "xu.qing", DeptCabin, "Voice Assistant Engineer", "E1031", "Shenzhen", -350, 0, ""},
		{"E1036", "吴婷", "wu.ting", DeptCabin, "Smart Cabin Product Manager", "E1030", "Shenzhen", -1800, -500, "resigned"}, // story

		{"E1044", "冯立", "feng.li", DeptCompliance, "Chief Compliance Officer", "E1001", "Beijing", -2000, 0, ""},
		{"E1045", "郑雪", "zheng.xue", DeptCompliance, "Compliance Officer", "E1044", "Beijing", -900, 0, ""},
		{"E1046", "蒋涛", "jiang.tao", DeptCompliance, "Compliance Analyst", "E1044", "Shanghai", -400, 0, ""},

		{"E1050", "朱明", "zhu.ming", DeptAD, "VP, Autonomous Driving", "E1001", "Beijing", -2200, 0, ""},
		{"E1051", "胡斌", "hu.bin", DeptAD, "Perception Team Lead", "E1050", "Beijing", -1300, 0, ""},
		{"E1052", "宋佳", "song.jia", DeptAD, "Planning and Control Engineer", "E1051", "Beijing", -600, 0, ""}, // story
		{"E1053", "梁浩", "liang.hao", DeptAD, "Perception Engineer", "E1051", "Shenzhen", -400, 0, ""},
		{"E1054", "唐磊", "tang.lei", DeptAD, "Simulation Engineer", "E1050", "Beijing", -90, 0, ""},
		{"E1055", "周杰", "zhou.jie", DeptAD, "Senior Perception Engineer", "E1051", "Shenzhen", -1400, -120, "resigned"}, // story

		{"E1060", "董洁", "dong.jie", DeptMarketing, "Chief Marketing Officer", "E1001", "Beijing", -1900, 0, ""},
		{"E1061", "蔡琳", "cai.lin", DeptMarketing, "Product Marketing Manager", "E1060", "Beijing", -1000, 0, ""},
		{"E1062", "刘洋", "liu.yang", DeptMarketing, "Channel Marketing Manager", "E1060", "Beijing", -1100, 0, ""}, // story
		{"E1063", "范思", "fan.si", DeptMarketing, "Brand Events Specialist", "E1060", "Shanghai", -500, 0, ""},     // story
		{"E1064", "任杰", "ren.jie", DeptMarketing, "Senior Marketing Advisor", "E1060", "Beijing", -3000, -700, "retired"},

		{"E1070", "孙浩", "sun.hao", DeptSupply, "Supply Chain Director", "E1001", "Wuhan", -2000, 0, ""},     // story
		{"E1071", "徐丽", "xu.li", DeptSupply, "Battery Procurement Manager", "E1070", "Wuhan", -1200, 0, ""}, // story
		{"E1072", "彭飞", "peng.fei", DeptSupply, "Supplier Quality Engineer", "E1070", "Wuhan", -800, 0, ""},
		{"E1073", "田甜", "tian.tian", DeptSupply, "Logistics Planner", "E1070", "Wuhan", -300, 0, ""},
		{"E1074", "袁野", "yuan.ye", DeptSupply, "Buyer", "E1070", "Shanghai", -900, -210, "resigned"},

		{"E1080", "沈昊", "shen.hao", DeptDesign, "Design Director", "E1001", "Shanghai", -2100, 0, ""},
		{"E1081", "韩雪", "han.xue", DeptDesign, "Exterior Designer", "E1080", "Shanghai", -1000, 0, ""},
		{"E1082", "秦朗", "qin.lang", DeptDesign, "Interior Designer", "E1080", "Shanghai", -650, 0, ""},

		{"E1090", "江波", "jiang.bo", DeptIT, "Chief Information Officer", "E1001", "Beijing", -2200, 0, ""},
		{"E1091", "陆洋", "lu.yang", DeptIT, "IT Security Engineer", "E1090", "Shenzhen", -900, 0, ""},
		{"E1092", "石磊", "shi.lei", DeptIT, "Systems Administrator", "E1090", "Wuhan", -1400, 0, ""},
		{"E1093", "白雪", "bai.xue", DeptIT, "Data Engineer", "E1090", "Shanghai", -250, 0, ""},
	}
}

// update is an hr.employee.updated; empty fields are unchanged.
type update struct {
	id                         string
	day                        int
	dept, title, manager, city string
}

func changes() []update {
	return []update{
		{"E1012", -400, "", "Senior Motor Control Engineer", "", ""},
		{"E1013", -250, DeptPowertrain, "Power Electronics Engineer", "E1011", "Shanghai"},
		{"E1011", -200, "", "Senior Director, Electric Drive Systems", "", ""},
		{"E1045", -180, "", "Senior Compliance Officer", "", ""},
		{"E1052", -150, "", "", "", "Shenzhen"},
		{"E1004", -90, "", "Finance Manager", "", ""},
		{"E1053", -60, "", "", "E1050", ""},
	}
}

// project is a product programme; launch is a day offset, 0 for none.
type project struct {
	code, name, sensitivity string
	launch                  int
}

// LaunchMS11 is the launch of MS11, the confidential pre-launch sedan at the
// centre of the story, in days from today: about two to three months after
// the seminars its engineers attend.
const LaunchMS11 = 20

// assignment puts id on p from day from until day to (0: still on it).
type assignment struct {
	id       string
	p        project
	from, to int
}

func assignmentTable() []assignment {
	var (
		projMS11 = project{"MS11", "Moonshot 11 sedan", "confidential", LaunchMS11}
		projMX9  = project{"MX9", "MX9 solid-state battery pack", "secret", 420}
		projEP7  = project{"EP7", "EP7 electric drive platform", "internal", 0}
		projSC3  = project{"SC3", "Smart Cabin OS 3.0", "internal", 75}
		projAD2  = project{"AD2", "Highway NOA 2.0", "internal", 150}
		projBR   = project{"BR25", "Moonlight brand refresh", "public", 0}
	)
	return []assignment{
		{"E1010", projMS11, -300, 0},
		{"E1011", projMS11, -300, 0},
		{"E1012", projMS11, -300, 0},
		{"E1015", projMS11, -300, -20},
		{"E1020", projMS11, -300, 0},
		{"E1013", projMS11, -240, 0},
		{"E1081", projMS11, -280, 0},
		{"E1061", projMS11, -120, 0},

		{"E1014", projMX9, -330, 0},
		{"E1016", projMX9, -330, 0},
		{"E1017", projMX9, -330, 0},

		{"E1022", projEP7, -500, 0},
		{"E1011", projEP7, -500, 0},
		{"E1019", projEP7, -500, -260},
		{"E1018", projEP7, -140, 0},

		{"E1030", projSC3, -360, 0},
		{"E1031", projSC3, -360, 0},
		{"E1032", projSC3, -360, 0},
		{"E1033", projSC3, -340, 0},

		{"E1051", projAD2, -400, 0},
		{"E1052", projAD2, -400, 0},
		{"E1053", projAD2, -390, 0},
		{"E1055", projAD2, -400, -120},
		{"E1054", projAD2, -85, 0},

		{"E1060", projBR, -200, 0},
		{"E1062", projBR, -200, 0},
		{"E1063", projBR, -200, 0},
	}
}

func (p person) email() string { return p.login + "@" + emailDomain }

// employedOn reports whether p works here on day n.
func (p person) employedOn(n int) bool {
	return n >= p.hired && (p.left == 0 || n <= p.left)
}

// cityOn is p's base city on day n, after relocations.
func (g *generator) cityOn(p person, n int) string {
	c := p.city
	for _, u := range g.updates {
		if u.id == p.id && u.city != "" && u.day <= n {
			c = u.city
		}
	}
	return c
}

// hr emits the HR history: hires, updates, project assignments, leave and
// terminations.
func (g *generator) hr() {
	for _, p := range g.staff {
		g.emit(TopicHR, p.id, SourceHR, "hr.employee.hired", p.id, p.id+"/hired", g.at(p.hired, 9, 0), hiredData{
			EmployeeID: p.id, Name: p.name, Email: p.email(), Department: p.dept, Title: p.title,
			ManagerID: p.manager, Location: p.city, HireDate: g.day(p.hired),
		})
		if p.left != 0 {
			g.emit(TopicHR, p.id, SourceHR, "hr.employee.terminated", p.id, p.id+"/terminated", g.at(p.left, 18, 0), terminatedData{
				EmployeeID: p.id, TerminationDate: g.day(p.left), Reason: p.reason,
			})
		}
		g.leave(p)
	}
	for _, u := range g.updates {
		g.emit(TopicHR, u.id, SourceHR, "hr.employee.updated", u.id, fmt.Sprintf("%s/updated/%d", u.id, u.day), g.at(u.day, 10, 0), updatedData{
			EmployeeID: u.id, EffectiveDate: g.day(u.day), Department: u.dept, Title: u.title, ManagerID: u.manager, Location: u.city,
		})
	}
	for _, a := range g.assignments {
		d := assignedData{
			EmployeeID: a.id, ProjectCode: a.p.code, ProjectName: a.p.name, Sensitivity: a.p.sensitivity,
			EffectiveDate: g.day(a.from),
		}
		if a.p.launch != 0 {
			d.LaunchDate = g.day(a.p.launch)
		}
		g.emit(TopicHR, a.id, SourceHR, "hr.project.assigned", a.id, a.id+"/assigned/"+a.p.code, g.at(a.from, 9, 30), d)
		if a.to != 0 {
			g.emit(TopicHR, a.id, SourceHR, "hr.project.unassigned", a.id, a.id+"/unassigned/"+a.p.code, g.at(a.to, 17, 30), unassignedData{
				EmployeeID: a.id, ProjectCode: a.p.code, EffectiveDate: g.day(a.to),
			})
		}
	}
}

// leave emits one to four leave records in the past year while p was employed.
func (g *generator) leave(p person) {
	n := 1 + g.rng.IntN(4)
	for i := range n {
		start := -360 + g.rng.IntN(355)
		typ, days := "annual", 1+g.rng.IntN(5)
		switch r := g.rng.Float64(); {
		case r < 0.25:
			typ, days = "sick", 1+g.rng.IntN(2)
		case r < 0.35:
			typ, days = "personal", 1
		}
		end := start + days - 1
		if !p.employedOn(start) || !p.employedOn(end) || end >= 0 {
			continue
		}
		g.emit(TopicHR, p.id, SourceHR, "hr.leave.recorded", p.id, fmt.Sprintf("%s/leave/%d", p.id, i),
			g.at(start, 8, 0), leaveData{
				EmployeeID: p.id, LeaveID: fmt.Sprintf("LV-%s-%d", p.id, i+1),
				StartDate: g.day(start), EndDate: g.day(end), LeaveType: typ,
			})
	}
}

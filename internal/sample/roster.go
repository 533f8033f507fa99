package sample

import "fmt"

// Departments of the demo company.
const (
	DeptExecutive  = "总裁办"
	DeptPowertrain = "电驱动系统部"
	DeptCabin      = "智能座舱部"
	DeptAD         = "自动驾驶部"
	DeptSupply     = "供应链管理部"
	DeptDesign     = "造型设计部"
	DeptMarketing  = "市场营销部"
	DeptFinance    = "财务部"
	DeptHR         = "人力资源部"
	DeptCompliance = "合规部"
	DeptIT         = "信息技术部"
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
		{"E1001", "林海", "lin.hai", DeptExecutive, "首席执行官", "", "Beijing", -2900, 0, ""},

		{"E1002", "周敏", "zhou.min", DeptFinance, "首席财务官", "E1001", "Beijing", -2600, 0, ""},
		{"E1003", "钱磊", "qian.lei", DeptFinance, "财务总监", "E1002", "Beijing", -1900, 0, ""},
		{"E1004", "孙悦", "sun.yue", DeptFinance, "高级会计", "E1003", "Beijing", -1200, 0, ""},
		{"E1005", "吕倩", "lv.qian", DeptFinance, "费用审核专员", "E1003", "Wuhan", -700, 0, ""},

		{"E1006", "郭静", "guo.jing", DeptHR, "人力资源总监", "E1001", "Beijing", -2400, 0, ""},
		{"E1007", "潘婷", "pan.ting", DeptHR, "人力资源业务伙伴", "E1006", "Shanghai", -1000, 0, ""},
		{"E1008", "杜鹏", "du.peng", DeptHR, "招聘专员", "E1006", "Shenzhen", -500, 0, ""},

		{"E1010", "黄志强", "huang.zhiqiang", DeptPowertrain, "电驱动系统副总裁", "E1001", "Shanghai", -2700, 0, ""},
		{"E1011", "马超", "ma.chao", DeptPowertrain, "电驱系统总监", "E1010", "Shanghai", -2100, 0, ""},
		{"E1012", "张伟", "zhang.wei", DeptPowertrain, "电机控制工程师", "E1011", "Shanghai", -1500, 0, ""}, // story
		// He Lin joined Smart Cabin and moved to EV Powertrain (see updates).
		{"E1013", "何琳", "he.lin", DeptCabin, "嵌入式软件工程师", "E1031", "Shenzhen", -800, 0, ""},
		{"E1014", "高翔", "gao.xiang", DeptPowertrain, "电池系统经理", "E1010", "Shanghai", -1800, 0, ""},
		{"E1015", "李娜", "li.na", DeptPowertrain, "电池系统工程师", "E1014", "Shanghai", -1100, -20, "resigned"}, // story
		{"E1016", "罗军", "luo.jun", DeptPowertrain, "验证工程师", "E1014", "Wuhan", -600, 0, ""},
		{"E1017", "谢芳", "xie.fang", DeptPowertrain, "电芯化学工程师", "E1014", "Wuhan", -950, 0, ""},
		{"E1018", "韦强", "wei.qiang", DeptPowertrain, "电机设计工程师", "E1011", "Shanghai", -150, 0, ""},
		{"E1019", "邓超", "deng.chao", DeptPowertrain, "动力总成标定工程师", "E1011", "Shanghai", -1000, -260, "resigned"},
		{"E1020", "陈静", "chen.jing", DeptPowertrain, "热管理主管", "E1010", "Shanghai", -1300, 0, ""},  // story
		{"E1022", "赵敏", "zhao.min", DeptPowertrain, "电驱高级工程师", "E1011", "Shanghai", -1600, 0, ""}, // story

		{"E1030", "王芳", "wang.fang", DeptCabin, "智能座舱副总裁", "E1001", "Shenzhen", -2300, 0, ""},
		{"E1031", "杨帆", "yang.fan", DeptCabin, "人机交互设计主管", "E1030", "Shenzhen", -1400, 0, ""}, // story
		{"E1032", "曹宇", "cao.yu", DeptCabin, "信息娱乐软件工程师", "E1031", "Shenzhen", -700, 0, ""},
		{"E1033", "许晴", "xu.qing", DeptCabin, "语音助手工程师", "E1031", "Shenzhen", -350, 0, ""},
		{"E1036", "吴婷", "wu.ting", DeptCabin, "智能座舱产品经理", "E1030", "Shenzhen", -1800, -500, "resigned"}, // story

		{"E1044", "冯立", "feng.li", DeptCompliance, "首席合规官", "E1001", "Beijing", -2000, 0, ""},
		{"E1045", "郑雪", "zheng.xue", DeptCompliance, "合规专员", "E1044", "Beijing", -900, 0, ""},
		{"E1046", "蒋涛", "jiang.tao", DeptCompliance, "合规分析师", "E1044", "Shanghai", -400, 0, ""},

		{"E1050", "朱明", "zhu.ming", DeptAD, "自动驾驶副总裁", "E1001", "Beijing", -2200, 0, ""},
		{"E1051", "胡斌", "hu.bin", DeptAD, "感知团队主管", "E1050", "Beijing", -1300, 0, ""},
		{"E1052", "宋佳", "song.jia", DeptAD, "规划控制工程师", "E1051", "Beijing", -600, 0, ""}, // story
		{"E1053", "梁浩", "liang.hao", DeptAD, "感知工程师", "E1051", "Shenzhen", -400, 0, ""},
		{"E1054", "唐磊", "tang.lei", DeptAD, "仿真工程师", "E1050", "Beijing", -90, 0, ""},
		{"E1055", "周杰", "zhou.jie", DeptAD, "高级感知工程师", "E1051", "Shenzhen", -1400, -120, "resigned"}, // story

		{"E1060", "董洁", "dong.jie", DeptMarketing, "首席营销官", "E1001", "Beijing", -1900, 0, ""},
		{"E1061", "蔡琳", "cai.lin", DeptMarketing, "产品市场经理", "E1060", "Beijing", -1000, 0, ""},
		{"E1062", "刘洋", "liu.yang", DeptMarketing, "渠道市场经理", "E1060", "Beijing", -1100, 0, ""}, // story
		{"E1063", "范思", "fan.si", DeptMarketing, "品牌活动专员", "E1060", "Shanghai", -500, 0, ""},   // story
		{"E1064", "任杰", "ren.jie", DeptMarketing, "高级市场顾问", "E1060", "Beijing", -3000, -700, "retired"},

		{"E1070", "孙浩", "sun.hao", DeptSupply, "供应链总监", "E1001", "Wuhan", -2000, 0, ""}, // story
		{"E1071", "徐丽", "xu.li", DeptSupply, "电池采购经理", "E1070", "Wuhan", -1200, 0, ""},  // story
		{"E1072", "彭飞", "peng.fei", DeptSupply, "供应商质量工程师", "E1070", "Wuhan", -800, 0, ""},
		{"E1073", "田甜", "tian.tian", DeptSupply, "物流计划员", "E1070", "Wuhan", -300, 0, ""},
		{"E1074", "袁野", "yuan.ye", DeptSupply, "采购员", "E1070", "Shanghai", -900, -210, "resigned"},

		{"E1080", "沈昊", "shen.hao", DeptDesign, "设计总监", "E1001", "Shanghai", -2100, 0, ""},
		{"E1081", "韩雪", "han.xue", DeptDesign, "外饰设计师", "E1080", "Shanghai", -1000, 0, ""},
		{"E1082", "秦朗", "qin.lang", DeptDesign, "内饰设计师", "E1080", "Shanghai", -650, 0, ""},

		{"E1090", "江波", "jiang.bo", DeptIT, "首席信息官", "E1001", "Beijing", -2200, 0, ""},
		{"E1091", "陆洋", "lu.yang", DeptIT, "信息安全工程师", "E1090", "Shenzhen", -900, 0, ""},
		{"E1092", "石磊", "shi.lei", DeptIT, "系统管理员", "E1090", "Wuhan", -1400, 0, ""},
		{"E1093", "白雪", "bai.xue", DeptIT, "数据工程师", "E1090", "Shanghai", -250, 0, ""},
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
		{"E1012", -400, "", "高级电机控制工程师", "", ""},
		{"E1013", -250, DeptPowertrain, "电力电子工程师", "E1011", "Shanghai"},
		{"E1011", -200, "", "电驱系统高级总监", "", ""},
		{"E1045", -180, "", "高级合规专员", "", ""},
		{"E1052", -150, "", "", "", "Shenzhen"},
		{"E1004", -90, "", "财务经理", "", ""},
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
		projMS11 = project{"MS11", "月影11 中型轿车", "confidential", LaunchMS11}
		projMX9  = project{"MX9", "MX9 固态电池包", "secret", 420}
		projEP7  = project{"EP7", "EP7 电驱动平台", "internal", 0}
		projSC3  = project{"SC3", "智能座舱系统 3.0", "internal", 75}
		projAD2  = project{"AD2", "高速领航辅助 2.0", "internal", 150}
		projBR   = project{"BR25", "Moonlight 品牌焕新", "public", 0}
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

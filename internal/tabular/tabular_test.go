package tabular

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func table() Table {
	return Table{Sheet: "Cases", Header: []string{"employee", "department", "note"},
		Rows: [][]string{{"张伟", "动力总成", "=HYPERLINK(\"x\")"}, {"李娜", "MS11", "plain"}}}
}

func TestCSVHasBOMAndKeepsChinese(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, CSV, table()); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatalf("no UTF-8 BOM: % x", b.Bytes()[:3])
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), bom))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[1][0] != "张伟" || recs[1][1] != "动力总成" {
		t.Fatalf("records = %q", recs)
	}
	if recs[1][2] != "'=HYPERLINK(\"x\")" {
		t.Errorf("a formula-like cell = %q, want it defused with a leading quote", recs[1][2])
	}
}

func TestXLSXOpensWithChinese(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, XLSX, table()); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Cases")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "employee" || rows[1][0] != "张伟" || rows[2][1] != "MS11" {
		t.Fatalf("rows = %q", rows)
	}
	if fs, _ := f.GetCellFormula("Cases", "C2"); fs != "" {
		t.Errorf("C2 became a formula %q", fs)
	}
}

func TestUnknownFormat(t *testing.T) {
	if err := Write(&bytes.Buffer{}, "pdf", table()); err == nil {
		t.Error("want an error for an unknown format")
	}
}

// Package tabular writes a table (a header and rows of text) as a CSV or
// XLSX file, for the exports of the case queue and the audit log. CSV is
// UTF-8 with a byte-order mark, so Excel opens Chinese text as Chinese
// rather than guessing a legacy code page; XLSX is written with excelize.
package tabular

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Formats.
const (
	CSV  = "csv"
	XLSX = "xlsx"
)

// Formats lists the formats Write knows.
func Formats() []string { return []string{CSV, XLSX} }

// Table is what an export holds.
type Table struct {
	// Sheet names the XLSX sheet (at most 31 characters are kept).
	Sheet  string
	Header []string
	Rows   [][]string
}

// ContentType is the media type of format.
func ContentType(format string) string {
	if format == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// Write writes t to w in format.
func Write(w io.Writer, format string, t Table) error {
	switch format {
	case CSV:
		return writeCSV(w, t)
	case XLSX:
		return writeXLSX(w, t)
	}
	return fmt.Errorf("unknown export format %q", format)
}

// bom is UTF-8's byte-order mark.
const bom = "\uFEFF"

func writeCSV(w io.Writer, t Table) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // what spreadsheet programs write and expect
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	for _, r := range t.Rows {
		if err := cw.Write(defuse(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// defuse keeps a spreadsheet from reading a cell as a formula (CSV
// injection: "=HYPERLINK(...)" in a merchant's name): a leading = + - @ or
// tab gets a quote mark in front, as OWASP advises.
func defuse(r []string) []string {
	out := make([]string, len(r))
	for i, v := range r {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			v = "'" + v
		}
		out[i] = v
	}
	return out
}

func writeXLSX(w io.Writer, t Table) error {
	f := excelize.NewFile()
	defer f.Close()
	name := t.Sheet
	if name == "" {
		name = "Sheet1"
	}
	if r := []rune(name); len(r) > 31 {
		name = string(r[:31])
	}
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	row := func(i int, vals []string) error {
		cells := make([]any, len(vals))
		for j, v := range vals {
			cells[j] = v // text cells: excelize writes strings, never formulas
		}
		cell, err := excelize.CoordinatesToCellName(1, i)
		if err != nil {
			return err
		}
		return sw.SetRow(cell, cells)
	}
	if err := row(1, t.Header); err != nil {
		return err
	}
	for i, r := range t.Rows {
		if err := row(i+2, r); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB itself uses; registered as "sqlite"
)

// FerretDB v1.24's SQLite backend creates its _id index on the expression
// _ferretdb_sjson->"_id" but every query, update and delete by _id compares
// _ferretdb_sjson->'$._id'. SQLite matches expression indexes by the
// expression's text, so the index is never used and a read by _id parses the
// JSON of every row. The release line is finished upstream, so instead of
// carrying a patched copy of FerretDB, the embedded database adds the index
// its queries can use, through a connection of its own to the same SQLite
// files: one more non-unique expression index per collection table
// (uniqueness stays FerretDB's own index's job). FerretDB's statements are
// prepared per call, so they pick the new index up at once.
//
// FerretDB creates a table whenever a collection is first written, so the
// indexer runs once at start and then every idIndexInterval; until it has
// run, a new collection is only as slow as it always was.

// idIndexSuffix names the extra index: "<table>_moonlight_id".
const idIndexSuffix = "_moonlight_id"

// idIndexInterval is how often new collection tables get the index.
const idIndexInterval = 500 * time.Millisecond

// idIndexOff turns the indexer off: only the package's before/after
// benchmark sets it, to measure what the index changes.
var idIndexOff = false

// IDIndexExpr is the expression FerretDB's SQLite backend compares _id with.
const IDIndexExpr = `_ferretdb_sjson->'$._id'`

// OpenSQLite opens one of the database's SQLite files (name is the MongoDB
// database name) without creating it: mode=rw fails on a missing file,
// so a database FerretDB has just dropped is never recreated empty behind
// its back. The caller closes it.
func (d *Database) OpenSQLite(name string) (*sql.DB, error) {
	return openSQLite(filepath.Join(d.dir, name+".sqlite"))
}

func openSQLite(path string) (*sql.DB, error) {
	u := url.URL{Scheme: "file", Path: path, RawQuery: "mode=rw&_pragma=busy_timeout(10000)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// IndexIDs adds the _id expression index to every collection table of every
// database that lacks it, and reports how many it created. It is idempotent.
func (d *Database) IndexIDs(ctx context.Context) (int, error) {
	if idIndexOff {
		return 0, nil
	}
	files, err := filepath.Glob(filepath.Join(d.dir, "*.sqlite"))
	if err != nil {
		return 0, err
	}
	created := 0
	var errs []error
	for _, f := range files {
		n, err := indexFile(ctx, f)
		created += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return created, errors.Join(errs...)
}

// indexFile handles one SQLite file. A file that disappears or has no
// collections yet (FerretDB creates the metadata table first) is no error.
func indexFile(ctx context.Context, path string) (int, error) {
	db, err := openSQLite(path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT c.table_name FROM _ferretdb_collections c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master i WHERE i.type = 'index' AND i.name = c.table_name || ?)
		AND EXISTS (SELECT 1 FROM sqlite_master t WHERE t.type = 'table' AND t.name = c.table_name)`, idIndexSuffix)
	if err != nil {
		if gone(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("list tables of %s: %w", filepath.Base(path), err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return 0, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	created := 0
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (%s)`, t+idIndexSuffix, t, IDIndexExpr)
		if _, err := db.ExecContext(ctx, q); err != nil {
			if gone(err) {
				continue // dropped meanwhile
			}
			return created, fmt.Errorf("index %s in %s: %w", t, filepath.Base(path), err)
		}
		created++
	}
	return created, nil
}

// gone reports errors of a file or table removed while the indexer looked.
func gone(err error) bool {
	s := err.Error()
	return strings.Contains(s, "no such table") || strings.Contains(s, "unable to open") ||
		strings.Contains(s, "disk I/O error") || strings.Contains(s, "readonly")
}

// indexLoop runs IndexIDs every idIndexInterval until ctx ends.
func (d *Database) indexLoop(ctx context.Context, logger interface{ Warn(string, ...any) }) {
	t := time.NewTicker(idIndexInterval)
	defer t.Stop()
	warned := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := d.IndexIDs(ctx); err != nil && !warned && ctx.Err() == nil {
			logger.Warn("embedded database: _id index not created", "err", err)
			warned = true // once: the next sweep retries anyway
		}
	}
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// conds builds a WHERE clause from optional conditions.
type conds struct {
	clauses []string
	args    []any
}

// add appends a condition with its arguments.
func (c *conds) add(clause string, args ...any) {
	c.clauses = append(c.clauses, clause)
	c.args = append(c.args, args...)
}

// eq adds "col = v" unless v is empty.
func (c *conds) eq(col, v string) {
	if v != "" {
		c.add(col+" = ?", v)
	}
}

// within adds the bounds of r on the nanosecond column col.
func (c *conds) within(col string, r TimeRange) {
	if !r.From.IsZero() {
		c.add(col+" >= ?", r.From.UnixNano())
	}
	if !r.Before.IsZero() {
		c.add(col+" < ?", r.Before.UnixNano())
	}
}

// where renders " WHERE a AND b", or "" with no conditions.
func (c *conds) where() string {
	if len(c.clauses) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.clauses, " AND ")
}

// checkRange rejects a TimeRange whose bounds do not fit the column.
func checkRange(name string, r TimeRange) error {
	if err := checkTime(name, r.From); err != nil {
		return err
	}
	return checkTime(name, r.Before)
}

// listQuery is one page of a table, newest first, by keyset.
type listQuery struct {
	table   string
	columns string
	filter  conds
	timeCol string   // the time column sorted on, descending
	keyCols []string // columns that break ties, descending
	page    Page
}

// list runs q, decoding rows with scan and naming each row's sort key with
// key; it returns the rows of the page and the next page's token.
func list[T any](ctx context.Context, db *sql.DB, q listQuery,
	scan func(rowScanner) (T, error), key func(T) cursor) ([]T, PageToken, error) {
	where := q.filter
	sortCols := append([]string{q.timeCol}, q.keyCols...)
	if q.page.Token != "" {
		c, err := parseCursor(q.page.Token, len(q.keyCols))
		if err != nil {
			return nil, "", err
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(sortCols)), ", ")
		args := []any{c.at}
		for _, k := range c.keys {
			args = append(args, k)
		}
		where.add("("+strings.Join(sortCols, ", ")+") < ("+marks+")", args...)
	}
	limit := q.page.limit()
	query := fmt.Sprintf("SELECT %s FROM %s%s ORDER BY %s DESC LIMIT %d",
		q.columns, q.table, where.where(), strings.Join(sortCols, " DESC, "), limit+1)
	rows, err := db.QueryContext(ctx, query, where.args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out := make([]T, 0, min(limit, 64))
	more := false
	for rows.Next() {
		if len(out) == limit {
			more = true
			break
		}
		v, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if !more {
		return out, "", nil
	}
	return out, key(out[len(out)-1]).token(), nil
}

// finishedRow is a *sql.Row for a write with RETURNING: Scan reads the one
// row and then steps the statement to its end. SQLite runs its WAL hook —
// the automatic checkpoint — only when sqlite3_step finishes a statement,
// not when an unfinished one is reset, which is all that *sql.Row does: a
// store writing through QueryRow never checkpointed and its WAL grew
// without bound (~100 KB per call).
type finishedRow struct {
	rows *sql.Rows
	err  error
}

// queryFinished wraps the result of a QueryContext that returns at most
// one row: queryFinished(db.QueryContext(ctx, q, args...)).
func queryFinished(rows *sql.Rows, err error) *finishedRow {
	return &finishedRow{rows: rows, err: err}
}

// Scan implements rowScanner like (*sql.Row).Scan: sql.ErrNoRows when the
// statement returned nothing.
func (r *finishedRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	for r.rows.Next() { // to SQLITE_DONE: the commit and its WAL hook
	}
	if err := r.rows.Err(); err != nil {
		return err
	}
	return r.rows.Close()
}

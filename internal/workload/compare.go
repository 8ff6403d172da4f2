package workload

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// col says how to read one column on each side as canonical text, so that
// equal values compare equal whatever the engine's own text form.
type col struct {
	name    string
	my, pg  string // select expressions; %s is the quoted column name
	jsonish bool   // compare as JSON documents (key order and spacing ignored)
}

var (
	plain   = col{my: "CAST(%s AS CHAR)", pg: "%s::text"}
	dt6     = col{my: "DATE_FORMAT(%s,'%%Y-%%m-%%d %%H:%%i:%%s.%%f')", pg: "to_char(%s,'YYYY-MM-DD HH24:MI:SS.US')"}
	tsMilli = col{my: "CAST(UNIX_TIMESTAMP(%s)*1000 AS SIGNED)", pg: "(extract(epoch from %s)*1000)::bigint::text"}
	date    = col{my: "DATE_FORMAT(%s,'%%Y-%%m-%%d')", pg: "to_char(%s,'YYYY-MM-DD')"}
	hexed   = col{my: "LOWER(HEX(%s))", pg: "encode(%s,'hex')"}
	jsonCol = col{my: "CAST(%s AS CHAR)", pg: "%s::text", jsonish: true}
)

func c(name string, kind col) col { kind.name = name; return kind }

// shape lists, per shop table, its key columns and every column's reading.
var shape = map[string]struct {
	key  []string
	cols []col
}{
	"customers": {[]string{"id"}, []col{c("id", plain), c("email", plain), c("name", plain), c("country", plain),
		c("tier", plain), c("created_at", dt6), c("updated_at", tsMilli)}},
	"products": {[]string{"sku"}, []col{c("sku", plain), c("title", plain), c("price", plain), c("stock", plain),
		c("attrs", jsonCol), c("image", hexed)}},
	"orders": {[]string{"id"}, []col{c("id", plain), c("customer_id", plain), c("status", plain), c("amount", plain),
		c("placed_on", date), c("note", plain), c("is_gift", plain)}},
	"order_items": {[]string{"order_id", "line"}, []col{c("order_id", plain), c("line", plain), c("sku", plain),
		c("qty", plain), c("price", plain)}},
}

// TableDiff is the comparison of one table.
type TableDiff struct {
	Table                   string
	Source, Target          int      // row counts
	Missing, Extra, Differs int      // rows only in source, only in target, with different values
	Examples                []string // a few of the differences, for the failure message
}

// Diff is the comparison of the whole shop.
type Diff struct{ Tables []TableDiff }

// Equal reports whether every table matched row by row.
func (d Diff) Equal() bool {
	for _, t := range d.Tables {
		if t.Missing+t.Extra+t.Differs > 0 {
			return false
		}
	}
	return true
}

// String summarizes the comparison, with examples of differences.
func (d Diff) String() string {
	var b strings.Builder
	for _, t := range d.Tables {
		fmt.Fprintf(&b, "%s: source %d rows, target %d rows, missing %d, extra %d, different %d\n",
			t.Table, t.Source, t.Target, t.Missing, t.Extra, t.Differs)
		for _, e := range t.Examples {
			fmt.Fprintf(&b, "    %s\n", e)
		}
	}
	return b.String()
}

// Rows returns the total source row count.
func (d Diff) Rows() int {
	n := 0
	for _, t := range d.Tables {
		n += t.Source
	}
	return n
}

// Compare reads every shop table from the source database and from the
// PostgreSQL schema pgSchema and compares them row by row, by key, through
// canonical text per column type.
func Compare(ctx context.Context, my *sql.DB, pg *pgxpool.Pool, pgSchema string) (Diff, error) {
	var d Diff
	for _, table := range Tables {
		td, err := compareTable(ctx, my, pg, pgSchema, table)
		if err != nil {
			return d, err
		}
		d.Tables = append(d.Tables, td)
	}
	return d, nil
}

func compareTable(ctx context.Context, my *sql.DB, pg *pgxpool.Pool, pgSchema, table string) (TableDiff, error) {
	sh := shape[table]
	var myExprs, pgExprs []string
	for _, cl := range sh.cols {
		myExprs = append(myExprs, fmt.Sprintf(cl.my, "`"+cl.name+"`"))
		pgExprs = append(pgExprs, fmt.Sprintf(cl.pg, pgx.Identifier{cl.name}.Sanitize()))
	}
	src, err := readMy(ctx, my, fmt.Sprintf("SELECT %s FROM `%s`", strings.Join(myExprs, ","), table), sh.key, sh.cols)
	if err != nil {
		return TableDiff{}, fmt.Errorf("workload: reading source %s: %w", table, err)
	}
	dst, err := readPG(ctx, pg, fmt.Sprintf("SELECT %s FROM %s", strings.Join(pgExprs, ","), pgx.Identifier{pgSchema, table}.Sanitize()), sh.key, sh.cols)
	if err != nil {
		return TableDiff{}, fmt.Errorf("workload: reading target %s.%s: %w", pgSchema, table, err)
	}
	td := TableDiff{Table: table, Source: len(src), Target: len(dst)}
	example := func(s string) {
		if len(td.Examples) < 5 {
			td.Examples = append(td.Examples, s)
		}
	}
	keys := make([]string, 0, len(src))
	for k := range src {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t, ok := dst[k]
		switch {
		case !ok:
			td.Missing++
			example("missing in target: key " + k)
		case !equalRows(src[k], t, sh.cols):
			td.Differs++
			example(fmt.Sprintf("key %s: source %v, target %v", k, show(src[k]), show(t)))
		}
	}
	for k := range dst {
		if _, ok := src[k]; !ok {
			td.Extra++
			example("extra in target: key " + k)
		}
	}
	return td, nil
}

type row []*string

func show(r row) []string {
	out := make([]string, len(r))
	for i, v := range r {
		if v == nil {
			out[i] = "NULL"
		} else {
			out[i] = fmt.Sprintf("%q", *v)
		}
	}
	return out
}

func equalRows(a, b row, cols []col) bool {
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) {
			return false
		}
		if a[i] == nil {
			continue
		}
		if cols[i].jsonish {
			if !sameJSON(*a[i], *b[i]) {
				return false
			}
		} else if *a[i] != *b[i] {
			return false
		}
	}
	return true
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

func keyOf(r row, names []string, cols []col) string {
	var parts []string
	for _, n := range names {
		for i, cl := range cols {
			if cl.name == n && r[i] != nil {
				parts = append(parts, *r[i])
			}
		}
	}
	return strings.Join(parts, "|")
}

func readMy(ctx context.Context, db *sql.DB, q string, key []string, cols []col) (map[string]row, error) {
	rs, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := make(map[string]row)
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := make(row, len(cols))
		for i, v := range vals {
			if v.Valid {
				s := v.String
				r[i] = &s
			}
		}
		out[keyOf(r, key, cols)] = r
	}
	return out, rs.Err()
}

func readPG(ctx context.Context, pool *pgxpool.Pool, q string, key []string, cols []col) (map[string]row, error) {
	rs, err := pool.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := make(map[string]row)
	for rs.Next() {
		r := make(row, len(cols))
		ptrs := make([]any, len(cols))
		for i := range r {
			ptrs[i] = &r[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		out[keyOf(r, key, cols)] = r
	}
	return out, rs.Err()
}

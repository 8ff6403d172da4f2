package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicecdc/sluice"
)

// tableMeta is one tracked version of a table: the neutral table plus what
// the decoders need beyond it (column character sets). It is immutable.
type tableMeta struct {
	t        *sluice.Table
	charsets []string // per column; "" for non-text columns
	defCS    string   // the table's default character set, for DDL-added columns
	engine   string
}

// metaJSON is the persisted form of a tableMeta (inside a Position): every
// Position carries the tracked schemas, so the form is compact.
type metaJSON struct {
	Schema   string    `json:"s"`
	Name     string    `json:"n"`
	Columns  []colJSON `json:"c"`
	Key      []int     `json:"k,omitempty"`
	Charsets []string  `json:"cs,omitempty"`
	DefCS    string    `json:"dcs,omitempty"`
}

// colJSON is a sluice.Column with short names and zero fields left out.
type colJSON struct {
	Name      string      `json:"n"`
	Kind      sluice.Kind `json:"k"`
	Bits      int         `json:"b,omitempty"`
	Length    int         `json:"l,omitempty"`
	Fixed     bool        `json:"f,omitempty"`
	Precision int         `json:"p,omitempty"`
	Scale     int         `json:"sc,omitempty"`
	Members   []string    `json:"m,omitempty"`
	SRID      int         `json:"r,omitempty"`
	Nullable  bool        `json:"nu,omitempty"`
	Native    string      `json:"na,omitempty"`
}

func (m *tableMeta) toJSON() metaJSON {
	cols := make([]colJSON, len(m.t.Columns))
	for i, c := range m.t.Columns {
		ty := c.Type
		cols[i] = colJSON{Name: c.Name, Kind: ty.Kind, Bits: ty.Bits, Length: ty.Length, Fixed: ty.Fixed, Precision: ty.Precision,
			Scale: ty.Scale, Members: ty.Members, SRID: ty.SRID, Nullable: c.Nullable, Native: c.Native}
	}
	cs := m.charsets
	allEmpty := true
	for _, c := range cs {
		if c != "" {
			allEmpty = false
		}
	}
	if allEmpty {
		cs = nil
	}
	return metaJSON{Schema: m.t.ID.Schema, Name: m.t.ID.Name, Columns: cols, Key: m.t.Key, Charsets: cs, DefCS: m.defCS}
}

func (j metaJSON) toMeta() (*tableMeta, error) {
	cols := make([]sluice.Column, len(j.Columns))
	for i, c := range j.Columns {
		cols[i] = sluice.Column{Name: c.Name, Nullable: c.Nullable, Native: c.Native, Type: sluice.Type{Kind: c.Kind, Bits: c.Bits,
			Length: c.Length, Fixed: c.Fixed, Precision: c.Precision, Scale: c.Scale, Members: c.Members, SRID: c.SRID}}
	}
	t, err := sluice.NewTable(sluice.TableID{Schema: j.Schema, Name: j.Name}, cols, j.Key)
	if err != nil {
		return nil, err
	}
	cs := j.Charsets
	if len(cs) != len(j.Columns) {
		cs = make([]string, len(j.Columns))
	}
	return &tableMeta{t: t, charsets: cs, defCS: j.DefCS}, nil
}

// encodeSchemas renders the tracked schemas in a stable order.
func encodeSchemas(m map[sluice.TableID]*tableMeta) json.RawMessage {
	ids := make([]sluice.TableID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].String() < ids[j].String() })
	out := make([]metaJSON, len(ids))
	for i, id := range ids {
		out[i] = m[id].toJSON()
	}
	b, _ := json.Marshal(out)
	return b
}

func decodeSchemas(raw json.RawMessage) (map[sluice.TableID]*tableMeta, error) {
	var in []metaJSON
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	m := make(map[sluice.TableID]*tableMeta, len(in))
	for _, j := range in {
		tm, err := j.toMeta()
		if err != nil {
			return nil, err
		}
		m[tm.t.ID] = tm
	}
	return m, nil
}

// columnSpec is what information_schema (or a parsed DDL) says about a column.
type columnSpec struct {
	name, dataType, columnType, charset string
	nullable, isJSON                    bool
}

// mapColumn converts a column description to a neutral column. It returns
// an error for a type it cannot represent faithfully.
func mapColumn(s columnSpec) (sluice.Column, string, error) {
	dt := strings.ToLower(s.dataType)
	ct := strings.ToLower(s.columnType)
	base, args, rest := splitColumnType(ct)
	unsigned := strings.Contains(rest, "unsigned")
	c := sluice.Column{Name: s.name, Nullable: s.nullable, Native: s.columnType}
	cs := ""
	argN := func(i int) int {
		if i < len(args) {
			n, _ := strconv.Atoi(strings.TrimSpace(args[i]))
			return n
		}
		return 0
	}
	if dt == "" {
		dt = base
	}
	switch dt {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "bool", "boolean":
		bits := map[string]int{"tinyint": 8, "bool": 8, "boolean": 8, "smallint": 16, "mediumint": 24, "int": 32, "integer": 32, "bigint": 64}[dt]
		c.Type = sluice.Type{Kind: sluice.KindInt, Bits: bits}
		if unsigned {
			c.Type.Kind = sluice.KindUint
		}
	case "decimal", "numeric", "dec", "fixed":
		p, sc := argN(0), argN(1)
		if p == 0 {
			p = 10
		}
		c.Type = sluice.Type{Kind: sluice.KindDecimal, Precision: p, Scale: sc}
	case "float":
		c.Type = sluice.Type{Kind: sluice.KindFloat32}
	case "double", "real", "double precision":
		c.Type = sluice.Type{Kind: sluice.KindFloat64}
	case "bit":
		n := argN(0)
		if n == 0 {
			n = 1
		}
		c.Type = sluice.Type{Kind: sluice.KindBit, Length: n}
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "nchar", "nvarchar":
		cs = strings.ToLower(s.charset)
		if cs == "binary" { // CHAR ... CHARACTER SET binary is BINARY
			c.Type = sluice.Type{Kind: sluice.KindBytes, Length: argN(0), Fixed: dt == "char"}
			cs = ""
			break
		}
		if s.isJSON {
			c.Type = sluice.Type{Kind: sluice.KindJSON}
			break
		}
		c.Type = sluice.Type{Kind: sluice.KindString, Fixed: dt == "char" || dt == "nchar"}
		if dt == "char" || dt == "varchar" || dt == "nchar" || dt == "nvarchar" {
			c.Type.Length = argN(0)
		}
		if !supportedCharset(cs) {
			return c, cs, fmt.Errorf("column %q: character set %q is not supported (utf8mb4, utf8mb3, utf8, ascii and latin1 are)", s.name, cs)
		}
	case "binary", "varbinary":
		c.Type = sluice.Type{Kind: sluice.KindBytes, Length: argN(0), Fixed: dt == "binary"}
	case "tinyblob", "blob", "mediumblob", "longblob":
		c.Type = sluice.Type{Kind: sluice.KindBytes}
	case "date":
		c.Type = sluice.Type{Kind: sluice.KindDate}
	case "time":
		c.Type = sluice.Type{Kind: sluice.KindTime, Scale: argN(0)}
	case "datetime":
		c.Type = sluice.Type{Kind: sluice.KindDateTime, Scale: argN(0)}
	case "timestamp":
		c.Type = sluice.Type{Kind: sluice.KindTimestamp, Scale: argN(0)}
	case "year":
		c.Type = sluice.Type{Kind: sluice.KindYear}
	case "enum":
		c.Type = sluice.Type{Kind: sluice.KindEnum, Members: parseMembers(ct)}
		cs = strings.ToLower(s.charset)
	case "set":
		c.Type = sluice.Type{Kind: sluice.KindSet, Members: parseMembers(ct)}
		cs = strings.ToLower(s.charset)
	case "json":
		c.Type = sluice.Type{Kind: sluice.KindJSON}
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "geomcollection":
		c.Type = sluice.Type{Kind: sluice.KindGeometry}
	default:
		return c, "", fmt.Errorf("column %q: type %q is not supported", s.name, s.columnType)
	}
	return c, cs, nil
}

func supportedCharset(cs string) bool {
	switch cs {
	case "", "utf8mb4", "utf8mb3", "utf8", "ascii", "latin1":
		return true
	}
	return false
}

// splitColumnType splits "int(10) unsigned zerofill" into "int", ["10"],
// " unsigned zerofill". Enum and set members keep their quotes.
func splitColumnType(ct string) (base string, args []string, rest string) {
	i := strings.IndexAny(ct, "( ")
	if i < 0 {
		return ct, nil, ""
	}
	base = ct[:i]
	if ct[i] != '(' {
		return base, nil, ct[i:]
	}
	// find the matching ')' outside quotes
	inq := false
	j := i + 1
	for ; j < len(ct); j++ {
		switch ct[j] {
		case '\'':
			inq = !inq
		case ')':
			if !inq {
				goto done
			}
		}
	}
done:
	inner := ct[i+1 : min(j, len(ct))]
	if base != "enum" && base != "set" {
		args = strings.Split(inner, ",")
	}
	if j < len(ct) {
		rest = ct[j+1:]
	}
	return base, args, rest
}

// parseMembers extracts the members of enum('a','b”c') in order.
func parseMembers(ct string) []string {
	i := strings.IndexByte(ct, '(')
	if i < 0 {
		return nil
	}
	var out []string
	var cur strings.Builder
	in := false
	s := ct[i+1:]
	for k := 0; k < len(s); k++ {
		ch := s[k]
		if !in {
			if ch == '\'' {
				in = true
				cur.Reset()
			} else if ch == ')' {
				break
			}
			continue
		}
		if ch == '\'' {
			if k+1 < len(s) && s[k+1] == '\'' {
				cur.WriteByte('\'')
				k++
				continue
			}
			in = false
			out = append(out, cur.String())
			continue
		}
		if ch == '\\' && k+1 < len(s) {
			k++
			switch s[k] {
			case 'n':
				cur.WriteByte('\n')
			case 't':
				cur.WriteByte('\t')
			case '0':
				cur.WriteByte(0)
			default:
				cur.WriteByte(s[k])
			}
			continue
		}
		cur.WriteByte(ch)
	}
	return out
}

// schemaReader loads table versions from information_schema.
type schemaReader struct {
	db     *sql.DB
	keys   map[string][]string
	intern func(*tableMeta) *tableMeta // may be nil
}

var jsonCheck = regexp.MustCompile("(?i)json_valid\\(`((?:[^`]|``)+)`\\)")

// listTables returns the selected base tables that exist now.
func (r *schemaReader) listTables(ctx context.Context, sel selector) ([]sluice.TableID, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
		WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys')
		ORDER BY TABLE_SCHEMA, TABLE_NAME`)
	if err != nil {
		return nil, fmt.Errorf("listing tables in information_schema: %w", err)
	}
	defer rows.Close()
	var out []sluice.TableID
	for rows.Next() {
		var id sluice.TableID
		if err := rows.Scan(&id.Schema, &id.Name); err != nil {
			return nil, err
		}
		if sel.selected(id.Schema, id.Name) {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

// load reads the current version of one table. It returns (nil, nil) when
// the table does not exist.
func (r *schemaReader) load(ctx context.Context, id sluice.TableID) (*tableMeta, error) {
	var coll, engine sql.NullString
	err := r.db.QueryRowContext(ctx, `SELECT TABLE_COLLATION, ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
		id.Schema, id.Name).Scan(&coll, &engine)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading table %s from information_schema: %w", id, err)
	}
	defCS, _, _ := strings.Cut(coll.String, "_")
	jsonCols := map[string]bool{}
	if crow, err := r.db.QueryContext(ctx, `SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`, id.Schema, id.Name); err == nil {
		for crow.Next() {
			var clause string
			if crow.Scan(&clause) == nil {
				for _, m := range jsonCheck.FindAllStringSubmatch(clause, -1) {
					jsonCols[strings.ReplaceAll(m[1], "``", "`")] = true
				}
			}
		}
		crow.Close()
	}
	rows, err := r.db.QueryContext(ctx, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IFNULL(CHARACTER_SET_NAME,''), IS_NULLABLE, COLUMN_KEY
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, id.Schema, id.Name)
	if err != nil {
		return nil, fmt.Errorf("reading columns of %s: %w", id, err)
	}
	defer rows.Close()
	var cols []sluice.Column
	var css []string
	for rows.Next() {
		var s columnSpec
		var nullable, key string
		if err := rows.Scan(&s.name, &s.dataType, &s.columnType, &s.charset, &nullable, &key); err != nil {
			return nil, err
		}
		s.nullable = nullable == "YES"
		s.isJSON = jsonCols[s.name]
		c, cs, err := mapColumn(s)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", id, err)
		}
		cols = append(cols, c)
		css = append(css, cs)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, nil
	}
	r.geometrySRIDs(ctx, id, cols)
	key, err := r.primaryKey(ctx, id, cols)
	if err != nil {
		return nil, err
	}
	t, err := sluice.NewTable(id, cols, key)
	if err != nil {
		return nil, err
	}
	m := &tableMeta{t: t, charsets: css, defCS: strings.ToLower(defCS), engine: engine.String}
	if r.intern != nil {
		m = r.intern(m)
	}
	return m, nil
}

// geometrySRIDs sets Type.SRID of geometry columns declared with one
// (MariaDB REF_SYSTEM_ID, MySQL 8 SRID attribute). Errors leave SRID 0.
func (r *schemaReader) geometrySRIDs(ctx context.Context, id sluice.TableID, cols []sluice.Column) {
	has := false
	for _, c := range cols {
		if c.Type.Kind == sluice.KindGeometry {
			has = true
		}
	}
	if !has {
		return
	}
	set := func(q string) {
		rows, err := r.db.QueryContext(ctx, q, id.Schema, id.Name)
		if err != nil {
			return
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var srid sql.NullInt64
			if rows.Scan(&name, &srid) != nil || !srid.Valid {
				continue
			}
			for i := range cols {
				if cols[i].Name == name && cols[i].Type.Kind == sluice.KindGeometry {
					cols[i].Type.SRID = int(srid.Int64)
				}
			}
		}
	}
	set("SELECT COALESCE(NULLIF(F_GEOMETRY_COLUMN, ''), G_GEOMETRY_COLUMN), SRID FROM information_schema.GEOMETRY_COLUMNS WHERE F_TABLE_SCHEMA = ? AND F_TABLE_NAME = ?")
	set("SELECT COLUMN_NAME, SRS_ID FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND SRS_ID IS NOT NULL")
}

func (r *schemaReader) primaryKey(ctx context.Context, id sluice.TableID, cols []sluice.Column) ([]int, error) {
	idx := func(name string) int {
		for i := range cols {
			if strings.EqualFold(cols[i].Name, name) {
				return i
			}
		}
		return -1
	}
	if names, ok := r.keys[id.String()]; ok {
		var key []int
		for _, n := range names {
			i := idx(n)
			if i < 0 {
				return nil, fmt.Errorf("table %s: configured key column %q does not exist", id, n)
			}
			key = append(key, i)
		}
		return key, nil
	}
	rows, err := r.db.QueryContext(ctx, `SELECT COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`, id.Schema, id.Name)
	if err != nil {
		return nil, fmt.Errorf("reading primary key of %s: %w", id, err)
	}
	defer rows.Close()
	var key []int
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if i := idx(n); i >= 0 {
			key = append(key, i)
		}
	}
	return key, rows.Err()
}

// quoteIdent quotes a MySQL identifier with backticks.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func quoteTable(id sluice.TableID) string { return quoteIdent(id.Schema) + "." + quoteIdent(id.Name) }

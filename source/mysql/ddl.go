package mysql

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	tmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // value expressions in parsed DDL
	"github.com/pingcap/tidb/pkg/parser/types"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluicecdc/sluice"
)

var ddlPrefixes = []string{"ALTER", "CREATE", "DROP", "RENAME", "TRUNCATE"}

// isDDL reports whether q starts with a DDL keyword (after comments).
func isDDL(q string) bool {
	q = strings.TrimSpace(stripLeadingComments(q))
	for _, p := range ddlPrefixes {
		if len(q) >= len(p) && strings.EqualFold(q[:len(p)], p) {
			return true
		}
	}
	return false
}

func stripLeadingComments(q string) string {
	for {
		q = strings.TrimSpace(q)
		switch {
		case strings.HasPrefix(q, "/*"):
			i := strings.Index(q, "*/")
			if i < 0 {
				return q
			}
			q = q[i+2:]
		case strings.HasPrefix(q, "#"), strings.HasPrefix(q, "-- "):
			i := strings.IndexByte(q, '\n')
			if i < 0 {
				return ""
			}
			q = q[i+1:]
		default:
			return q
		}
	}
}

// ddl applies a DDL statement from the binlog to the tracked schemas and
// emits the schema-change (or truncate) events it implies. Each new version
// is derived from the previous tracked version and the statement itself,
// never from today's information_schema, so old events decode with the
// schema in force when they were written.
func (st *streamer) ddl(ctx context.Context, db, q string, h *replication.EventHeader) error {
	if !isDDL(q) {
		return nil
	}
	ts := time.Unix(int64(h.Timestamp), 0).UTC()
	p := parser.New()
	p.SetSQLMode(tmysql.ModeNone)
	stmts, _, err := p.Parse(q, "", "")
	if err != nil {
		return st.ddlFallback(ctx, db, q, ts, err)
	}
	for _, stmt := range stmts {
		if err := st.applyStmt(ctx, db, q, stmt, ts); err != nil {
			return err
		}
	}
	return nil
}

func tableID(db string, tn *ast.TableName) sluice.TableID {
	s := tn.Schema.O
	if s == "" {
		s = db
	}
	return sluice.TableID{Schema: s, Name: tn.Name.O}
}

func (st *streamer) emitSchema(c sluice.Change) error {
	c.Op = sluice.OpSchema
	return st.push(c)
}

func (st *streamer) applyStmt(ctx context.Context, db, q string, stmt ast.StmtNode, ts time.Time) error {
	switch s := stmt.(type) {
	case *ast.CreateTableStmt:
		id := tableID(db, s.Table)
		if !st.s.sel.selected(id.Schema, id.Name) || s.TemporaryKeyword != ast.TemporaryNone {
			return nil
		}
		if old := st.schemas[id]; old != nil && s.IfNotExists {
			return nil
		}
		var m *tableMeta
		var err error
		if s.ReferTable != nil || s.Select != nil || len(s.Cols) == 0 {
			m, err = st.s.schemaReader().load(ctx, id) // CREATE ... LIKE / AS SELECT: best effort
			if err == nil && m == nil {
				return nil
			}
		} else {
			m, err = st.createMeta(id, s)
		}
		if err != nil {
			return sluice.Permanent(fmt.Errorf("mysql source: tracking %q: %w", q, err))
		}
		st.setSchema(m)
		return st.emitSchema(sluice.Change{Table: m.t, DDL: q, Time: ts})
	case *ast.DropTableStmt:
		for _, tn := range s.Tables {
			id := tableID(db, tn)
			if old := st.schemas[id]; old != nil && !s.IsView {
				delete(st.schemas, id)
				st.schemasRaw = nil
				if err := st.emitSchema(sluice.Change{Table: old.t, Dropped: true, DDL: q, Time: ts}); err != nil {
					return err
				}
			}
		}
	case *ast.TruncateTableStmt:
		if m := st.schemas[tableID(db, s.Table)]; m != nil {
			return st.push(sluice.Change{Op: sluice.OpTruncate, Table: m.t, Time: ts})
		}
	case *ast.RenameTableStmt:
		for _, tt := range s.TableToTables {
			if err := st.rename(tableID(db, tt.OldTable), tableID(db, tt.NewTable), q, ts); err != nil {
				return err
			}
		}
	case *ast.AlterTableStmt:
		id := tableID(db, s.Table)
		old := st.schemas[id]
		if old == nil {
			return nil
		}
		m, newID, err := st.alterMeta(old, s.Specs)
		if err != nil {
			return sluice.Permanent(fmt.Errorf("mysql source: tracking %q on %s: %w; start without a checkpoint to re-snapshot", q, id, err))
		}
		if m != nil && !m.t.SameShape(old.t) {
			st.setSchema(m)
			if err := st.emitSchema(sluice.Change{Table: m.t, OldTable: old.t, DDL: q, Time: ts}); err != nil {
				return err
			}
		} else if m != nil && !slices.Equal(m.charsets, old.charsets) {
			// Same neutral shape, new encodings (CONVERT TO CHARACTER SET):
			// keep the *Table, decode with the new character sets.
			st.setSchema(&tableMeta{t: old.t, charsets: m.charsets, defCS: m.defCS, engine: old.engine})
		}
		if newID != id {
			return st.rename(id, newID, q, ts)
		}
	}
	return nil
}

func (st *streamer) rename(from, to sluice.TableID, q string, ts time.Time) error {
	old := st.schemas[from]
	if old == nil {
		return nil
	}
	delete(st.schemas, from)
	st.schemasRaw = nil
	if err := st.emitSchema(sluice.Change{Table: old.t, Dropped: true, DDL: q, Time: ts}); err != nil {
		return err
	}
	if !st.s.sel.selected(to.Schema, to.Name) {
		return nil
	}
	t, err := sluice.NewTable(to, old.t.Columns, old.t.Key)
	if err != nil {
		return err
	}
	m := &tableMeta{t: t, charsets: old.charsets, defCS: old.defCS}
	st.setSchema(m)
	return st.emitSchema(sluice.Change{Table: t, DDL: q, Time: ts})
}

// colFromDef maps a parsed column definition. It returns the column, its
// character set, and whether it is declared PRIMARY KEY.
func colFromDef(def *ast.ColumnDef, defCS string) (sluice.Column, string, bool, error) {
	ft := def.Tp
	cs := strings.ToLower(ft.GetCharset())
	if cs == "" {
		cs = defCS
	}
	spec := columnSpec{
		name:       def.Name.Name.O,
		dataType:   types.TypeToStr(ft.GetType(), ft.GetCharset()),
		columnType: ft.InfoSchemaStr(),
		charset:    cs,
		nullable:   true,
		isJSON:     ft.GetType() == tmysql.TypeJSON,
	}
	pk := false
	for _, o := range def.Options {
		switch o.Tp {
		case ast.ColumnOptionNotNull:
			spec.nullable = false
		case ast.ColumnOptionPrimaryKey:
			spec.nullable = false
			pk = true
		case ast.ColumnOptionCheck:
			if fe, ok := o.Expr.(*ast.FuncCallExpr); ok && strings.EqualFold(fe.FnName.L, "json_valid") {
				spec.isJSON = true
			}
		}
	}
	c, cs2, err := mapColumn(spec)
	return c, cs2, pk, err
}

func tableCharset(opts []*ast.TableOption, def string) string {
	for _, o := range opts {
		if o.Tp == ast.TableOptionCharset && o.StrValue != "" {
			return strings.ToLower(o.StrValue)
		}
		if o.Tp == ast.TableOptionCollate && o.StrValue != "" {
			cs, _, _ := strings.Cut(strings.ToLower(o.StrValue), "_")
			return cs
		}
	}
	return def
}

func (st *streamer) createMeta(id sluice.TableID, s *ast.CreateTableStmt) (*tableMeta, error) {
	defCS := tableCharset(s.Options, "utf8mb4")
	var cols []sluice.Column
	var css []string
	var keyNames []string
	for _, def := range s.Cols {
		c, cs, pk, err := colFromDef(def, defCS)
		if err != nil {
			return nil, err
		}
		cols = append(cols, c)
		css = append(css, cs)
		if pk {
			keyNames = append(keyNames, c.Name)
		}
	}
	for _, con := range s.Constraints {
		if con.Tp == ast.ConstraintPrimaryKey {
			keyNames = nil
			for _, k := range con.Keys {
				if k.Column != nil {
					keyNames = append(keyNames, k.Column.Name.O)
				}
			}
		}
		if con.Tp == ast.ConstraintCheck && con.Expr != nil {
			if fe, ok := con.Expr.(*ast.FuncCallExpr); ok && strings.EqualFold(fe.FnName.L, "json_valid") && len(fe.Args) == 1 {
				if cn, ok := fe.Args[0].(*ast.ColumnNameExpr); ok {
					for i := range cols {
						if strings.EqualFold(cols[i].Name, cn.Name.Name.O) && cols[i].Type.Kind == sluice.KindString {
							cols[i].Type = sluice.Type{Kind: sluice.KindJSON}
						}
					}
				}
			}
		}
	}
	if names, ok := st.s.cfg.Keys[id.String()]; ok {
		keyNames = names
	}
	key, err := keyIndexes(cols, keyNames)
	if err != nil {
		return nil, err
	}
	t, err := sluice.NewTable(id, cols, key)
	if err != nil {
		return nil, err
	}
	return &tableMeta{t: t, charsets: css, defCS: defCS}, nil
}

func keyIndexes(cols []sluice.Column, names []string) ([]int, error) {
	var key []int
	for _, n := range names {
		found := -1
		for i := range cols {
			if strings.EqualFold(cols[i].Name, n) {
				found = i
			}
		}
		if found < 0 {
			return nil, fmt.Errorf("key column %q does not exist", n)
		}
		key = append(key, found)
	}
	return key, nil
}

// alterMeta applies ALTER TABLE specs to a table version.
func (st *streamer) alterMeta(old *tableMeta, specs []*ast.AlterTableSpec) (*tableMeta, sluice.TableID, error) {
	id := old.t.ID
	cols := append([]sluice.Column(nil), old.t.Columns...)
	css := append([]string(nil), old.charsets...)
	keyNames := old.t.KeyNames()
	defCS := old.defCS
	find := func(name string) int {
		for i := range cols {
			if strings.EqualFold(cols[i].Name, name) {
				return i
			}
		}
		return -1
	}
	insertAt := func(pos *ast.ColumnPosition, def int) int {
		if pos == nil {
			return def
		}
		switch pos.Tp {
		case ast.ColumnPositionFirst:
			return 0
		case ast.ColumnPositionAfter:
			if i := find(pos.RelativeColumn.Name.O); i >= 0 {
				return i + 1
			}
		}
		return def
	}
	insert := func(i int, c sluice.Column, cs string) {
		cols = append(cols, sluice.Column{})
		copy(cols[i+1:], cols[i:])
		cols[i] = c
		css = append(css, "")
		copy(css[i+1:], css[i:])
		css[i] = cs
	}
	remove := func(i int) {
		cols = append(cols[:i], cols[i+1:]...)
		css = append(css[:i], css[i+1:]...)
	}
	renameKey := func(from, to string) {
		for k := range keyNames {
			if strings.EqualFold(keyNames[k], from) {
				keyNames[k] = to
			}
		}
	}
	for _, sp := range specs {
		switch sp.Tp {
		case ast.AlterTableAddColumns:
			for _, def := range sp.NewColumns {
				if find(def.Name.Name.O) >= 0 && sp.IfNotExists {
					continue
				}
				c, cs, pk, err := colFromDef(def, defCS)
				if err != nil {
					return nil, id, err
				}
				insert(insertAt(sp.Position, len(cols)), c, cs)
				if pk {
					keyNames = []string{c.Name}
				}
			}
		case ast.AlterTableDropColumn:
			i := find(sp.OldColumnName.Name.O)
			if i < 0 {
				if sp.IfExists {
					continue
				}
				return nil, id, fmt.Errorf("dropped column %q is not in the tracked schema", sp.OldColumnName.Name.O)
			}
			remove(i)
		case ast.AlterTableModifyColumn, ast.AlterTableChangeColumn:
			oldName := ""
			if sp.Tp == ast.AlterTableModifyColumn {
				oldName = sp.NewColumns[0].Name.Name.O
			} else {
				oldName = sp.OldColumnName.Name.O
			}
			i := find(oldName)
			if i < 0 {
				if sp.IfExists {
					continue
				}
				return nil, id, fmt.Errorf("changed column %q is not in the tracked schema", oldName)
			}
			c, cs, _, err := colFromDef(sp.NewColumns[0], defCS)
			if err != nil {
				return nil, id, err
			}
			remove(i)
			insert(insertAt(sp.Position, i), c, cs)
			renameKey(oldName, c.Name)
		case ast.AlterTableRenameColumn:
			i := find(sp.OldColumnName.Name.O)
			if i < 0 {
				return nil, id, fmt.Errorf("renamed column %q is not in the tracked schema", sp.OldColumnName.Name.O)
			}
			cols[i].Name = sp.NewColumnName.Name.O
			renameKey(sp.OldColumnName.Name.O, cols[i].Name)
		case ast.AlterTableRenameTable:
			id = tableID(old.t.ID.Schema, sp.NewTable)
		case ast.AlterTableDropPrimaryKey:
			keyNames = nil
		case ast.AlterTableAddConstraint:
			if sp.Constraint != nil && sp.Constraint.Tp == ast.ConstraintPrimaryKey {
				keyNames = nil
				for _, k := range sp.Constraint.Keys {
					if k.Column != nil {
						keyNames = append(keyNames, k.Column.Name.O)
					}
				}
			}
		case ast.AlterTableOption:
			defCS = tableCharset(sp.Options, defCS)
			for _, o := range sp.Options {
				if o.Tp == ast.TableOptionCharset && o.UintValue == ast.TableOptionCharsetWithConvertTo {
					// CONVERT TO CHARACTER SET re-encodes every text column.
					for i := range cols {
						if css[i] != "" {
							css[i] = defCS
						}
					}
				}
			}
		}
	}
	if names, ok := st.s.cfg.Keys[old.t.ID.String()]; ok {
		keyNames = names
	}
	key, err := keyIndexes(cols, keyNames)
	if err != nil {
		return nil, id, err
	}
	t, err := sluice.NewTable(old.t.ID, cols, key)
	if err != nil {
		return nil, id, err
	}
	return &tableMeta{t: t, charsets: css, defCS: defCS}, id, nil
}

// ddlFallback handles DDL the parser does not understand: if it names a
// tracked table, the table's current schema is loaded (correct when the
// source is not lagging behind later DDL; logged as a warning).
func (st *streamer) ddlFallback(ctx context.Context, db, q string, ts time.Time, perr error) error {
	lq := strings.ToLower(q)
	for id, old := range st.schemas {
		if !strings.Contains(lq, strings.ToLower(id.Name)) {
			continue
		}
		st.s.cfg.Logger.Warn("mysql source: cannot parse DDL; reloading the table's current schema", "table", id, "err", perr)
		m, err := st.s.schemaReader().load(ctx, id)
		if err != nil {
			return err
		}
		if m == nil {
			delete(st.schemas, id)
			st.schemasRaw = nil
			if err := st.emitSchema(sluice.Change{Table: old.t, Dropped: true, DDL: q, Time: ts}); err != nil {
				return err
			}
			continue
		}
		if !m.t.SameShape(old.t) {
			st.setSchema(m)
			if err := st.emitSchema(sluice.Change{Table: m.t, OldTable: old.t, DDL: q, Time: ts}); err != nil {
				return err
			}
		}
	}
	_ = db
	return nil
}

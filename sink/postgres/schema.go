package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/sluicecdc/sluice"
)

// execer is what pgx.Tx, *pgx.Conn and *pgxpool.Pool have in common.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ensureMeta creates the checkpoint schema, the checkpoint table and the
// registry of created tables, once per sink.
func (s *Sink) ensureMeta(ctx context.Context) error {
	if s.ensured {
		return nil
	}
	// Create only what is missing: CREATE ... IF NOT EXISTS checks the
	// CREATE privilege before existence, and a user may be granted use of a
	// checkpoint schema prepared by an administrator without that privilege.
	var haveSchema, haveCP, haveReg bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1),
		EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2),
		EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $3)`,
		s.cfg.CheckpointSchema, s.cfg.CheckpointTable, s.cfg.CheckpointTable+"_tables").Scan(&haveSchema, &haveCP, &haveReg)
	if err != nil {
		return classify(fmt.Errorf("postgres sink: looking up checkpoint objects: %w", s.redact(err)))
	}
	var stmts []string
	if !haveSchema {
		stmts = append(stmts, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(s.cfg.CheckpointSchema))
	}
	if !haveCP {
		stmts = append(stmts, "CREATE TABLE IF NOT EXISTS "+s.checkpointIdent()+
			" (name text PRIMARY KEY, position bytea NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())")
	}
	if !haveReg {
		stmts = append(stmts, "CREATE TABLE IF NOT EXISTS "+s.registryIdent()+
			" (schema_name text NOT NULL, table_name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (schema_name, table_name))")
	}
	for _, q := range stmts {
		var err error
		for range 3 { // concurrent IF NOT EXISTS may race on the catalog's unique index
			if _, err = s.pool.Exec(ctx, q); !isUniqueViolation(err) {
				break
			}
		}
		if err != nil {
			return classify(fmt.Errorf("postgres sink: creating checkpoint objects in schema %q: %w (grant CREATE on the database or create the schema and its tables first)",
				s.cfg.CheckpointSchema, s.redact(err)))
		}
	}
	s.ensured = true
	return nil
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// tableState reports whether the target table exists and whether this sink
// created it (it is in the registry).
func (s *Sink) tableState(ctx context.Context, q execer, id pgx.Identifier) (exists, ours bool, err error) {
	// Catalog lookups need no privilege on the schemas (to_regclass does).
	var registry bool
	err = q.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2),
		EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $3 AND c.relname = $4
			AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'))`,
		id[0], id[1], s.cfg.CheckpointSchema, s.cfg.CheckpointTable+"_tables").Scan(&exists, &registry)
	if err == nil && exists && registry {
		err = q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+s.registryIdent()+" WHERE schema_name = $1 AND table_name = $2)", id[0], id[1]).Scan(&ours)
	}
	if err != nil {
		return false, false, fmt.Errorf("postgres sink: looking up table %s: %w", id.Sanitize(), s.redact(err))
	}
	return exists, ours, nil
}

// SyncSchema creates the target schemas and tables (mapped types, NOT NULL,
// primary key, optional DISTRIBUTED BY) in one transaction, applying the
// ExistingTable mode to tables that already exist.
func (s *Sink) SyncSchema(ctx context.Context, tables []*sluice.Table) error {
	var errs []error
	for _, t := range tables {
		if _, err := s.plan(t); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return sluice.Permanent(errors.Join(errs...))
	}
	if err := s.ensureMeta(ctx); err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres sink: schema sync: %w", s.redact(err))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var conflicts []string
	type todo struct {
		t        *sluice.Table
		id       pgx.Identifier
		exists   bool
		truncate bool
	}
	var work []todo
	for _, t := range tables {
		id := s.targetID(t.ID)
		exists, ours, err := s.tableState(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case exists && !ours && s.cfg.ExistingTable == ExistingFail:
			conflicts = append(conflicts, id.Sanitize())
		case exists && s.cfg.ExistingTable == ExistingTruncate:
			work = append(work, todo{t, id, true, true})
		default:
			work = append(work, todo{t: t, id: id, exists: exists})
		}
	}
	if len(conflicts) > 0 {
		return sluice.Permanent(fmt.Errorf("postgres sink: schema sync: %w: %s (drop them, or set ExistingTable to ExistingIgnore or ExistingTruncate)",
			ErrExistingTable, strings.Join(conflicts, ", ")))
	}
	for _, w := range work {
		switch {
		case !w.exists:
			if err := s.createTable(ctx, tx, w.t); err != nil {
				return err
			}
		case w.truncate:
			if _, err := tx.Exec(ctx, "TRUNCATE "+w.id.Sanitize()); err != nil {
				return classify(fmt.Errorf("postgres sink: truncating existing table %s: %w", w.id.Sanitize(), err))
			}
			s.log.Info("truncated existing target table", "table", w.id.Sanitize())
		default:
			s.log.Info("target table exists; writing into it", "table", w.id.Sanitize())
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres sink: schema sync: committing: %w", s.redact(err))
	}
	return nil
}

// createTable creates the schema and table of t if missing and records the
// table in the registry.
func (s *Sink) createTable(ctx context.Context, q execer, t *sluice.Table) error {
	id := s.targetID(t.ID)
	ddl, err := s.CreateTableSQL(t)
	if err != nil {
		return sluice.Permanent(err)
	}
	var haveSchema bool
	if err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", id[0]).Scan(&haveSchema); err != nil {
		return fmt.Errorf("postgres sink: looking up schema %s: %w", quoteIdent(id[0]), err)
	}
	stmts := []string{ddl}
	if !haveSchema {
		stmts = []string{"CREATE SCHEMA IF NOT EXISTS " + quoteIdent(id[0]), ddl}
	}
	for _, stmt := range stmts {
		if _, err := q.Exec(ctx, stmt); err != nil {
			return classify(fmt.Errorf("postgres sink: creating table %s: %w", id.Sanitize(), err))
		}
	}
	if _, err := q.Exec(ctx, "INSERT INTO "+s.registryIdent()+" (schema_name, table_name) VALUES ($1, $2) ON CONFLICT DO NOTHING", id[0], id[1]); err != nil {
		return fmt.Errorf("postgres sink: registering table %s: %w", id.Sanitize(), err)
	}
	s.log.Info("created target table", "table", id.Sanitize())
	return nil
}

// CreateTableSQL returns the CREATE TABLE IF NOT EXISTS statement the sink
// runs for t: mapped types, NOT NULL, primary key, and DISTRIBUTED BY when
// configured.
func (s *Sink) CreateTableSQL(t *sluice.Table) (string, error) {
	id := s.targetID(t.ID)
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS " + id.Sanitize() + " (")
	for i, c := range t.Columns {
		typ, err := TypeFor(c.Type)
		if err != nil {
			return "", fmt.Errorf("postgres sink: table %s column %q: %w", t.ID, c.Name, err)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.Name) + " " + typ)
		if !c.Nullable && !zeroable(c.Type.Kind, t, i) {
			b.WriteString(" NOT NULL")
		}
	}
	if t.HasKey() {
		b.WriteString(", PRIMARY KEY (" + quoteList(t.KeyNames()) + ")")
	}
	b.WriteString(")")
	if cols, ok := s.cfg.DistributedBy[t.ID]; ok {
		b.WriteString(" DISTRIBUTED BY (" + quoteList(cols) + ")")
	} else if s.cfg.DistributeByKey && t.HasKey() {
		b.WriteString(" DISTRIBUTED BY (" + quoteList(t.KeyNames()) + ")")
	}
	return b.String(), nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}

// applySchemaChange applies an OpSchema change inside the batch transaction:
// a new table is created, added columns are added; anything else follows
// OnDDL.
func (s *Sink) applySchemaChange(ctx context.Context, tx pgx.Tx, c *sluice.Change) error {
	t := c.Table
	id := s.targetID(t.ID)
	if c.Dropped {
		return s.otherDDL(c, "table dropped at the source; the target table is kept")
	}
	if c.OldTable == nil {
		exists, _, err := s.tableState(ctx, tx, id)
		if err != nil {
			return err
		}
		if exists {
			// Created meanwhile, or there before: write into it as it is.
			s.log.Info("new source table already exists in the target; writing into it", "table", id.Sanitize())
			return nil
		}
		return s.createTable(ctx, tx, t)
	}
	old := c.OldTable
	var other, alters []string
	var dropped []sluice.Column
	for _, oc := range old.Columns {
		i := t.ColumnIndex(oc.Name)
		if i < 0 {
			dropped = append(dropped, oc)
			other = append(other, fmt.Sprintf("column %q dropped", oc.Name))
			continue
		}
		nc := t.Columns[i]
		col := " ALTER COLUMN " + quoteIdent(nc.Name)
		if !nc.Type.Equal(oc.Type) {
			ot, _ := TypeFor(oc.Type)
			nt, err := TypeFor(nc.Type)
			switch {
			case err != nil:
				return sluice.Permanent(fmt.Errorf("postgres sink: table %s: changing column %q: %w", t.ID, nc.Name, err))
			case ot == nt: // e.g. an enum member added: same target type
			case widens(oc.Type, nc.Type):
				alters = append(alters, col+" TYPE "+nt)
			default:
				other = append(other, fmt.Sprintf("column %q type %s -> %s", oc.Name, oc.Type, nc.Type))
			}
		}
		if nc.Nullable && !oc.Nullable {
			alters = append(alters, col+" DROP NOT NULL")
		} // NULL -> NOT NULL: the source enforces it; the target stays lax
	}
	for _, a := range alters {
		if _, err := tx.Exec(ctx, "ALTER TABLE "+id.Sanitize()+a); err != nil {
			return classify(fmt.Errorf("postgres sink: altering %s (%s): %w", id.Sanitize(), strings.TrimSpace(a), err))
		}
		s.log.Info("altered column", "table", id.Sanitize(), "change", strings.TrimSpace(a))
	}
	if len(alters) > 0 {
		// Cached statement descriptions (COPY's column types) are stale now.
		if err := tx.Conn().DeallocateAll(ctx); err != nil {
			return fmt.Errorf("postgres sink: resetting statement cache after altering %s: %w", id.Sanitize(), err)
		}
	}
	if strings.Join(old.KeyNames(), "\x00") != strings.Join(t.KeyNames(), "\x00") {
		other = append(other, "primary key changed")
	}
	if t.ID != old.ID {
		other = append(other, "table renamed from "+old.ID.String())
	}
	if len(other) > 0 {
		if err := s.otherDDL(c, strings.Join(other, "; ")); err != nil {
			return err
		}
		for _, dc := range dropped { // Skip: keep the column, let rows without it in
			if !dc.Nullable {
				q := "ALTER TABLE " + s.targetID(old.ID).Sanitize() + " ALTER COLUMN " + quoteIdent(dc.Name) + " DROP NOT NULL"
				if _, err := tx.Exec(ctx, q); err != nil {
					return classify(fmt.Errorf("postgres sink: relaxing NOT NULL of dropped column %q in %s: %w", dc.Name, id.Sanitize(), err))
				}
			}
		}
	}
	for _, nc := range t.Columns {
		if old.ColumnIndex(nc.Name) >= 0 {
			continue
		}
		typ, err := TypeFor(nc.Type)
		if err != nil {
			return sluice.Permanent(fmt.Errorf("postgres sink: table %s: adding column %q: %w", t.ID, nc.Name, err))
		}
		// Added as nullable: existing target rows have no value for it.
		q := "ALTER TABLE " + id.Sanitize() + " ADD COLUMN IF NOT EXISTS " + quoteIdent(nc.Name) + " " + typ
		if _, err := tx.Exec(ctx, q); err != nil {
			return classify(fmt.Errorf("postgres sink: adding column %q to %s: %w", nc.Name, id.Sanitize(), err))
		}
		s.log.Info("added column", "table", id.Sanitize(), "column", nc.Name, "type", typ)
	}
	return nil
}

// otherDDL fails (DDLFail) or logs (DDLSkip) a schema change the sink does
// not apply.
func (s *Sink) otherDDL(c *sluice.Change, what string) error {
	if s.cfg.OnDDL == DDLSkip {
		s.log.Warn("skipping schema change the sink does not apply", "table", c.Table.ID.String(), "change", what, "ddl", c.DDL)
		return nil
	}
	return sluice.Permanent(fmt.Errorf("postgres sink: table %s: %w: %s (DDL %q); apply it to the target by hand and set OnDDL to DDLSkip, or re-sync the table",
		c.Table.ID, ErrDDL, what, c.DDL))
}

// intRank orders the integer target types by range.
func intRank(t sluice.Type) int {
	typ, _ := TypeFor(t)
	switch typ {
	case "smallint":
		return 1
	case "integer":
		return 2
	case "bigint":
		return 3
	case "numeric(20,0)":
		return 4
	}
	return 0
}

// widens reports whether a column can change from type a to type b in the
// target without losing any value: longer strings, wider integers, more
// decimal digits at the same scale, more fractional-second digits, longer
// bit strings.
func widens(a, b sluice.Type) bool {
	isInt := func(k sluice.Kind) bool { return k == sluice.KindInt || k == sluice.KindUint }
	switch {
	case a.Kind == sluice.KindString && b.Kind == sluice.KindString:
		return b.Length == 0 || (a.Length > 0 && b.Length >= a.Length)
	case isInt(a.Kind) && isInt(b.Kind):
		return intRank(b) > intRank(a) && intRank(a) > 0
	case a.Kind == sluice.KindDecimal && b.Kind == sluice.KindDecimal:
		return a.Scale == b.Scale && b.Precision >= a.Precision && a.Precision > 0
	case a.Kind == b.Kind && (a.Kind == sluice.KindDateTime || a.Kind == sluice.KindTimestamp):
		return b.Scale >= a.Scale
	case a.Kind == sluice.KindBit && b.Kind == sluice.KindBit:
		return a.Length > 1 && b.Length >= a.Length
	}
	return false
}

// zeroable reports whether column i may hold a MySQL zero date, which
// arrives as NULL (or becomes NULL here): such columns are created without
// NOT NULL, unless they are in the key.
func zeroable(k sluice.Kind, t *sluice.Table, i int) bool {
	if k != sluice.KindDate && k != sluice.KindDateTime && k != sluice.KindTimestamp {
		return false
	}
	for _, key := range t.Key {
		if key == i {
			return false
		}
	}
	return true
}

package postgres

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/sluicecdc/sluice"
)

// maxIdentLen is PostgreSQL's identifier limit in bytes (NAMEDATALEN-1).
const maxIdentLen = 63

// Precheck checks, without writing anything: connectivity and credentials,
// the replica role, CREATE privileges on the target and checkpoint schemas,
// type mappings, keys, and existing target tables under the ExistingTable
// mode (for ExistingIgnore: that their columns and key fit).
func (s *Sink) Precheck(ctx context.Context, tables []*sluice.Table) []sluice.Check {
	var out []sluice.Check
	add := func(item string, st sluice.Status, cause, remedy string) {
		out = append(out, sluice.Check{Item: "postgres sink: " + item, Status: st, Cause: cause, Remedy: remedy})
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		remedy := "check ConnString's host, port, user, password and database, and that the server runs"
		if s.cfg.ReplicaRole {
			remedy += "; with ReplicaRole the user must be a superuser (session_replication_role)"
		}
		add("connection", sluice.StatusFail, s.redact(err).Error(), remedy)
		return out
	}
	defer conn.Release()
	add("connection", sluice.StatusOK, "", "")
	if s.cfg.ReplicaRole {
		var role string
		if err := conn.QueryRow(ctx, "SHOW session_replication_role").Scan(&role); err != nil || role != "replica" {
			add("session_replication_role", sluice.StatusFail, fmt.Sprintf("is %q (%v)", role, err), "connect as a superuser, or turn ReplicaRole off")
		} else {
			add("session_replication_role", sluice.StatusOK, "", "")
		}
	}

	// Existing objects decide which privileges are needed: CREATE on a
	// schema only where something must be created in it.
	type state struct{ exists, ours bool }
	states := make([]state, len(tables))
	stateErr := make([]error, len(tables))
	schemas := map[string]bool{}
	for i, t := range tables {
		id := s.targetID(t.ID)
		states[i].exists, states[i].ours, stateErr[i] = s.tableState(ctx, conn, id)
		if stateErr[i] == nil && !states[i].exists {
			schemas[id[0]] = true
		}
	}
	var haveCP, haveReg, canCP bool
	err = conn.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2),
		EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $3),
		COALESCE((SELECT bool_and(has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
			AND has_table_privilege(c.oid, 'INSERT') AND has_table_privilege(c.oid, 'UPDATE'))
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname IN ($2, $3)), false)`,
		s.cfg.CheckpointSchema, s.cfg.CheckpointTable, s.cfg.CheckpointTable+"_tables").Scan(&haveCP, &haveReg, &canCP)
	switch {
	case err != nil:
		add("checkpoint table", sluice.StatusFail, s.redact(err).Error(), "check the connection user")
	case haveCP && haveReg && !canCP:
		add("checkpoint table "+s.checkpointIdent(), sluice.StatusFail, "the user cannot read and write the checkpoint tables",
			fmt.Sprintf("GRANT USAGE ON SCHEMA %s and SELECT, INSERT, UPDATE ON %s, %s to the sink's user", quoteIdent(s.cfg.CheckpointSchema), s.checkpointIdent(), s.registryIdent()))
	case haveCP && haveReg:
		add("checkpoint table "+s.checkpointIdent(), sluice.StatusOK, "", "")
	default:
		schemas[s.cfg.CheckpointSchema] = true
	}
	names := make([]string, 0, len(schemas))
	for n := range schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var exists, can bool
		err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1),
			CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) THEN has_schema_privilege($1, 'CREATE')
			ELSE has_database_privilege(current_database(), 'CREATE') END`, n).Scan(&exists, &can)
		item := fmt.Sprintf("CREATE privilege on schema %q", n)
		switch {
		case err != nil:
			add(item, sluice.StatusFail, s.redact(err).Error(), "check the connection user")
		case !can && exists:
			add(item, sluice.StatusFail, "the user cannot create tables in the schema", fmt.Sprintf("GRANT CREATE ON SCHEMA %s TO the sink's user", quoteIdent(n)))
		case !can:
			add(item, sluice.StatusFail, "the schema does not exist and the user cannot create schemas", "create the schema, or GRANT CREATE ON DATABASE to the sink's user")
		default:
			add(item, sluice.StatusOK, "", "")
		}
	}

	// Types, keys and name lengths.
	hasText := false
	for _, t := range tables {
		id := s.targetID(t.ID)
		for _, n := range id {
			if len(n) > maxIdentLen {
				add(fmt.Sprintf("table %s: name length", t.ID), sluice.StatusFail,
					fmt.Sprintf("%q is %d bytes; PostgreSQL truncates names to %d bytes", n, len(n), maxIdentLen),
					"rename the table or schema with a transform")
			}
		}
		for _, c := range t.Columns {
			if len(c.Name) > maxIdentLen {
				add(fmt.Sprintf("table %s column %q: name length", t.ID, c.Name), sluice.StatusFail,
					fmt.Sprintf("%d bytes; PostgreSQL truncates names to %d bytes", len(c.Name), maxIdentLen),
					"rename the column with a transform")
			}
			if _, err := TypeFor(c.Type); err != nil {
				add(fmt.Sprintf("table %s column %q: type", t.ID, c.Name), sluice.StatusFail, err.Error(),
					"map the column to a supported type with a transform, or exclude it")
			}
			if c.Type.Kind == sluice.KindString {
				hasText = true
			}
		}
		if !t.HasKey() {
			add(fmt.Sprintf("table %s: primary key", t.ID), sluice.StatusFail, "the table has no primary or unique key",
				"add a primary key at the source (the sink upserts and de-duplicates by key)")
		}
	}
	if hasText {
		add("text columns", sluice.StatusWarn, "PostgreSQL text cannot store NUL (0x00) characters; a row holding one fails its batch",
			"if source strings may contain NUL, map those columns to bytes with a transform")
	}

	// Existing tables.
	for i, t := range tables {
		id := s.targetID(t.ID)
		exists, ours, err := states[i].exists, states[i].ours, stateErr[i]
		item := "table " + id.Sanitize()
		switch {
		case err != nil:
			add(item, sluice.StatusFail, err.Error(), "check the connection user's privileges")
		case !exists:
			add(item, sluice.StatusOK, "", "")
		case !s.canWrite(ctx, conn.Conn(), id):
			add(item, sluice.StatusFail, "the table exists and the user lacks INSERT, UPDATE, DELETE or TRUNCATE on it",
				"GRANT INSERT, UPDATE, DELETE, TRUNCATE ON "+id.Sanitize()+" to the sink's user")
		case ours:
			add(item, sluice.StatusOK, "created earlier by this sink; it is reused", "")
		case s.cfg.ExistingTable == ExistingFail:
			add(item, sluice.StatusFail, "the table already exists", "drop it, or set ExistingTable to ExistingIgnore (append) or ExistingTruncate (empty it first)")
		case s.cfg.ExistingTable == ExistingTruncate:
			add(item, sluice.StatusWarn, "the table exists and will be truncated before the initial load", "")
		default:
			if cause := s.checkExisting(ctx, conn.Conn(), id, t); cause != "" {
				add(item, sluice.StatusFail, cause, "alter the target table to fit, or drop it and let the sink create it")
			} else {
				add(item, sluice.StatusOK, "the table exists; rows are written into it", "")
			}
		}
	}
	return out
}

// checkExisting reports why an existing table cannot take t's rows: missing
// columns, or no unique index on the key (ON CONFLICT needs one).
func (s *Sink) checkExisting(ctx context.Context, conn *pgx.Conn, id pgx.Identifier, t *sluice.Table) string {
	rows, err := conn.Query(ctx, `SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`, id.Sanitize())
	if err != nil {
		return s.redact(err).Error()
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return s.redact(err).Error()
	}
	set := make(map[string]bool, len(have))
	for _, h := range have {
		set[h] = true
	}
	var missing []string
	for _, c := range t.Columns {
		if !set[c.Name] {
			missing = append(missing, fmt.Sprintf("%q", c.Name))
		}
	}
	if len(missing) > 0 {
		return "missing columns " + strings.Join(missing, ", ")
	}
	var ok bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (
		SELECT 1 FROM pg_index i WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL
		AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text COLLATE "C") FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey))
		  = (SELECT array_agg(k ORDER BY k COLLATE "C") FROM unnest($2::text[]) k))`, id.Sanitize(), t.KeyNames()).Scan(&ok)
	if err != nil {
		return s.redact(err).Error()
	}
	if !ok {
		return "no primary key or unique index on the key columns (" + strings.Join(t.KeyNames(), ", ") + ")"
	}
	return ""
}

// canWrite reports whether the user may change rows of an existing table.
func (s *Sink) canWrite(ctx context.Context, conn *pgx.Conn, id pgx.Identifier) bool {
	var ok bool
	err := conn.QueryRow(ctx, `SELECT has_table_privilege(r, 'INSERT') AND has_table_privilege(r, 'UPDATE')
		AND has_table_privilege(r, 'DELETE') AND has_table_privilege(r, 'TRUNCATE') FROM to_regclass($1) r`, id.Sanitize()).Scan(&ok)
	return err == nil && ok
}

package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/sink"
)

// Stage operation codes (column "op" of a stage table).
const (
	opNone         = 0 // nothing to do (inserted and deleted in the batch)
	opDelete       = 1 // delete if present
	opDeleteExists = 2 // delete; the row must exist (Fail/Ignore)
	opUpdateExists = 3 // update; the row must exist (Fail/Ignore)
	opUpsert       = 4 // insert or update
	opInsertNew    = 5 // insert; the key must not exist (Fail/Ignore)
)

// Write applies the batch in one PostgreSQL transaction, together with the
// checkpoint row when b.Position is set.
func (s *Sink) Write(ctx context.Context, b *sink.Batch) error {
	if len(b.Changes) == 0 && b.Position == nil {
		return nil
	}
	if err := s.ensureMeta(ctx); err != nil {
		return err
	}
	conn, err := s.writeConn(ctx)
	if err != nil {
		return err
	}
	if s.lastFailed && b.Position != nil {
		// The last Write failed, maybe in a COMMIT that got no answer and did
		// happen. If the checkpoint holds this batch's position, it did.
		var pos []byte
		err := conn.QueryRow(ctx, "SELECT position FROM "+s.checkpointIdent()+" WHERE name = $1", b.Checkpoint).Scan(&pos)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			s.dropConn()
			return fmt.Errorf("postgres sink: checking whether the last batch committed: %w", s.redact(err))
		}
		s.lastFailed = false
		if bytes.Equal(pos, b.Position) {
			s.log.Info("batch was committed before the connection broke; not applying it again", "checkpoint", b.Checkpoint)
			return nil
		}
	}
	if err := s.apply(ctx, conn, b); err != nil {
		s.lastFailed = true
		// Start the retry on a fresh connection: the old one may be broken,
		// mid-protocol, or hold statement descriptions made stale by DDL.
		s.dropConn()
		return classify(s.redact(err))
	}
	s.lastFailed = false
	return nil
}

// batchWriter applies one batch inside tx.
type batchWriter struct {
	s      *Sink
	tx     pgx.Tx
	groups []*group
	byT    map[*sluice.Table]*group
	newStg []*tablePlan // stage tables created in this transaction
	used   map[*tablePlan]bool
	vals   []any
}

// group holds the changes of one table version between two barriers
// (truncate, schema change, end of batch), in order.
type group struct {
	p       *tablePlan
	changes []*sluice.Change
	onlyNew bool // only snapshot reads and inserts: try COPY straight in
}

func (s *Sink) apply(ctx context.Context, conn *pgx.Conn, b *sink.Batch) (err error) {
	loaded, dups, err := s.parallelLoad(ctx, b)
	if err != nil {
		return err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres sink: beginning transaction: %w", err)
	}
	w := &batchWriter{s: s, tx: tx, byT: make(map[*sluice.Table]*group), used: make(map[*tablePlan]bool)}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			for _, p := range w.newStg {
				delete(s.staged, p.stageName())
			}
		}
	}()
	for i := range b.Changes {
		c := &b.Changes[i]
		switch c.Op {
		case sluice.OpRead, sluice.OpInsert, sluice.OpUpdate, sluice.OpDelete:
			if loaded[c.Table] {
				continue // loaded in parallel above
			}
			g := w.byT[c.Table]
			if g == nil {
				p, err := s.plan(c.Table)
				if err != nil {
					return err
				}
				g = &group{p: p, onlyNew: true}
				w.byT[c.Table] = g
				w.groups = append(w.groups, g)
			}
			g.changes = append(g.changes, c)
			if c.Op != sluice.OpRead && c.Op != sluice.OpInsert {
				g.onlyNew = false
			}
		case sluice.OpTruncate:
			if err := w.flush(ctx); err != nil {
				return err
			}
			id := s.targetID(c.Table.ID)
			if _, err := tx.Exec(ctx, "TRUNCATE "+id.Sanitize()); err != nil {
				return fmt.Errorf("postgres sink: truncating %s: %w", id.Sanitize(), err)
			}
		case sluice.OpSchema:
			if err := w.flush(ctx); err != nil {
				return err
			}
			if err := s.applySchemaChange(ctx, tx, c); err != nil {
				return err
			}
		}
	}
	for _, d := range dups { // chunks whose keys existed: merge them here
		w.groups = append(w.groups, &group{p: d.p, changes: d.changes})
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	if b.Position != nil {
		if err := s.saveCheckpoint(ctx, tx, b.Checkpoint, b.Position); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres sink: committing batch: %w", err)
	}
	return nil
}

// flush applies every pending group and starts a new segment.
func (w *batchWriter) flush(ctx context.Context) error {
	for _, g := range w.groups {
		if err := w.flushGroup(ctx, g); err != nil {
			return err
		}
	}
	w.groups = w.groups[:0]
	clear(w.byT)
	return nil
}

func (w *batchWriter) flushGroup(ctx context.Context, g *group) error {
	if g.onlyNew {
		ok, err := w.copyDirect(ctx, g)
		if err != nil || ok {
			return err
		}
	}
	entries, err := w.collapse(g)
	if err != nil {
		return err
	}
	return w.merge(ctx, g.p, entries)
}

// copyDirect loads snapshot rows and inserts straight into the target with
// COPY under a savepoint. It reports false when a key already exists (a
// replayed chunk, a key twice in the batch, a conflicting insert): the
// caller then merges through the stage table, which applies the conflict
// policy, so the outcome is the same as without this fast path.
func (w *batchWriter) copyDirect(ctx context.Context, g *group) (bool, error) {
	if _, err := w.tx.Exec(ctx, "SAVEPOINT sluice_copy"); err != nil {
		return false, fmt.Errorf("postgres sink: savepoint: %w", err)
	}
	src := &readSource{p: g.p, changes: g.changes, vals: w.rowBuf(len(g.p.cols)), i: -1}
	_, err := w.tx.CopyFrom(ctx, g.p.target, g.p.cols, src)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			if _, err := w.tx.Exec(ctx, "ROLLBACK TO SAVEPOINT sluice_copy"); err != nil {
				return false, fmt.Errorf("postgres sink: rolling back to savepoint: %w", err)
			}
			return false, nil
		}
		if src.err != nil {
			return false, sluice.Permanent(fmt.Errorf("postgres sink: %w", src.err))
		}
		return false, fmt.Errorf("postgres sink: COPY into %s: %w", g.p.qtarget, err)
	}
	if _, err := w.tx.Exec(ctx, "RELEASE SAVEPOINT sluice_copy"); err != nil {
		return false, fmt.Errorf("postgres sink: releasing savepoint: %w", err)
	}
	return true, nil
}

func (w *batchWriter) rowBuf(n int) []any {
	if cap(w.vals) < n {
		w.vals = make([]any, n)
	}
	return w.vals[:n]
}

// readSource feeds snapshot rows to COPY.
type readSource struct {
	p       *tablePlan
	changes []*sluice.Change
	i       int
	vals    []any
	err     error
}

func (r *readSource) Next() bool { r.i++; return r.i < len(r.changes) }
func (r *readSource) Values() ([]any, error) {
	v, err := r.p.encode(r.changes[r.i].After, r.vals, false)
	if err != nil {
		r.err = err
	}
	return v, err
}
func (r *readSource) Err() error { return nil }

// entry is the net effect of a batch segment on one key.
type entry struct {
	pre     byte // 'a' anything, 'n' key must not exist, 'e' row must exist
	present bool // the key exists after the segment
	row     sluice.Row
	owned   bool // row is a private copy that may be modified
	op      int
	mask    int
}

// collapse reduces a group to one entry per key: last change wins, deletes
// respected, Unchanged cells filled from an earlier image in the batch.
func (w *batchWriter) collapse(g *group) ([]entry, error) {
	p := g.p
	idx := make(map[any]int, len(g.changes))
	entries := make([]entry, 0, len(g.changes))
	set := func(k any, pre byte, present bool, row sluice.Row) {
		if w.s.cfg.Conflict == ConflictOverwrite {
			pre = 'a'
		}
		i, ok := idx[k]
		if !ok {
			idx[k] = len(entries)
			entries = append(entries, entry{pre: pre, present: present, row: row})
			return
		}
		e := &entries[i]
		if present && e.present && hasUnchanged(row) {
			if !e.owned {
				e.row = append(sluice.Row(nil), e.row...)
				e.owned = true
			}
			for j, v := range row {
				if !sluice.IsUnchanged(v) {
					e.row[j] = v
				}
			}
			return
		}
		e.present, e.row, e.owned = present, row, false
	}
	for _, c := range g.changes {
		switch c.Op {
		case sluice.OpRead, sluice.OpInsert:
			k, err := p.keyOf(c.After)
			if err != nil {
				return nil, sluice.Permanent(err)
			}
			pre := byte('n')
			if c.Op == sluice.OpRead {
				pre = 'a'
			}
			set(k, pre, true, c.After)
		case sluice.OpUpdate:
			ka, err := p.keyOf(c.After)
			if err != nil {
				return nil, sluice.Permanent(err)
			}
			before := c.Before
			if before == nil { // a source that sends no old image for a same-key update
				before = c.After
			}
			kb, err := p.keyOf(before)
			if err != nil {
				return nil, sluice.Permanent(err)
			}
			if kb != ka {
				after := c.After
				if hasUnchanged(after) {
					// The moved row keeps the unsent values of the old row.
					i, ok := idx[kb]
					if !ok || !entries[i].present {
						return nil, sluice.Permanent(fmt.Errorf("postgres sink: table %s: key change (%s) with values not sent (Unchanged) for a row not in the batch is not supported",
							p.t.ID, p.keyDesc(c.Before)))
					}
					after = append(sluice.Row(nil), after...)
					for j, v := range after {
						if sluice.IsUnchanged(v) {
							after[j] = entries[i].row[j]
						}
					}
				}
				set(kb, 'e', false, before)
				set(ka, 'n', true, after)
			} else {
				set(ka, 'e', true, c.After)
			}
		case sluice.OpDelete:
			if c.Before == nil {
				return nil, sluice.Permanent(fmt.Errorf("postgres sink: table %s: delete without a before image (the source must send at least the key)", p.t.ID))
			}
			k, err := p.keyOf(c.Before)
			if err != nil {
				return nil, sluice.Permanent(err)
			}
			set(k, 'e', false, c.Before)
		}
	}
	return entries, nil
}

func hasUnchanged(r sluice.Row) bool {
	for _, v := range r {
		if sluice.IsUnchanged(v) {
			return true
		}
	}
	return false
}

// merge stages the entries with COPY and applies them with set-based
// statements: deletes, then updates, then upserts and inserts.
func (w *batchWriter) merge(ctx context.Context, p *tablePlan, entries []entry) error {
	// Decide each entry's operation and unchanged-column mask.
	var masks []string // mask bit strings; index is the mask id
	maskID := map[string]int{}
	var counts [6]int
	for i := range entries {
		e := &entries[i]
		switch {
		case e.present && e.pre == 'a':
			e.op = opUpsert
		case e.present && e.pre == 'n':
			e.op = opInsertNew
		case e.present && e.pre == 'e':
			e.op = opUpdateExists
		case !e.present && e.pre == 'a':
			e.op = opDelete
		case !e.present && e.pre == 'e':
			e.op = opDeleteExists
		default:
			e.op = opNone
		}
		counts[e.op]++
		if e.present && hasUnchanged(e.row) {
			bits := make([]byte, len(e.row))
			for j, v := range e.row {
				if sluice.IsUnchanged(v) {
					bits[j] = 1
				}
			}
			id, ok := maskID[string(bits)]
			if !ok {
				if len(masks) == 0 {
					masks = append(masks, string(make([]byte, len(e.row))))
					maskID[masks[0]] = 0
				}
				id = len(masks)
				masks = append(masks, string(bits))
				maskID[string(bits)] = id
			}
			e.mask = id
		}
	}
	if len(masks) == 0 {
		masks = []string{string(make([]byte, len(p.cols)))}
	}
	if counts[opNone] == len(entries) {
		return nil
	}
	if err := w.ensureStage(ctx, p); err != nil {
		return err
	}
	src := &entrySource{p: p, entries: entries, i: -1, vals: w.rowBuf(len(p.cols) + 2)}
	if _, err := w.tx.CopyFrom(ctx, pgx.Identifier{"pg_temp", p.stageName()}, p.stageCols(), src); err != nil {
		if src.err != nil {
			return sluice.Permanent(fmt.Errorf("postgres sink: %w", src.err))
		}
		return fmt.Errorf("postgres sink: staging changes for %s: %w", p.qtarget, err)
	}
	if w.s.cfg.Conflict == ConflictFail && counts[opInsertNew]+counts[opUpdateExists]+counts[opDeleteExists] > 0 {
		if err := w.checkConflicts(ctx, p); err != nil {
			return err
		}
	}
	exec := func(sql string) error {
		if _, err := w.tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("postgres sink: applying changes to %s: %w", p.qtarget, err)
		}
		return nil
	}
	if counts[opDelete]+counts[opDeleteExists] > 0 {
		if err := exec(p.deleteSQL()); err != nil {
			return err
		}
	}
	for _, op := range []int{opUpdateExists, opUpsert, opInsertNew} {
		if counts[op] == 0 {
			continue
		}
		for id, m := range masks {
			sql := p.applySQL(op, id, m, w.s.cfg.Conflict)
			if sql == "" {
				continue
			}
			if err := exec(sql); err != nil {
				return err
			}
		}
	}
	return nil
}

// entrySource feeds collapsed entries to COPY into the stage table.
type entrySource struct {
	p       *tablePlan
	entries []entry
	i       int
	vals    []any
	err     error
}

func (r *entrySource) Next() bool {
	for r.i++; r.i < len(r.entries); r.i++ {
		if r.entries[r.i].op != opNone {
			return true
		}
	}
	return false
}

func (r *entrySource) Values() ([]any, error) {
	e := &r.entries[r.i]
	n := len(r.p.cols)
	if _, err := r.p.encode(e.row, r.vals[:n], !e.present); err != nil {
		r.err = err
		return nil, err
	}
	r.vals[n] = int64(e.op)
	r.vals[n+1] = int64(e.mask)
	return r.vals, nil
}

func (r *entrySource) Err() error { return nil }

// ensureStage creates p's temp stage table on the write connection (once per
// connection) or empties it when it was already used in this transaction.
func (w *batchWriter) ensureStage(ctx context.Context, p *tablePlan) error {
	name := p.stageName()
	if w.used[p] {
		if _, err := w.tx.Exec(ctx, "TRUNCATE "+pgx.Identifier{"pg_temp", name}.Sanitize()); err != nil {
			return fmt.Errorf("postgres sink: emptying stage table: %w", err)
		}
		return nil
	}
	w.used[p] = true
	if w.s.staged[name] {
		return nil
	}
	var b strings.Builder
	b.WriteString("CREATE TEMP TABLE IF NOT EXISTS ")
	b.WriteString(quoteIdent(name))
	b.WriteString(" (")
	for i, c := range p.stageCols() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c))
	}
	b.WriteString(") ON COMMIT DELETE ROWS AS SELECT ")
	for i := range p.cols {
		b.WriteString("t.")
		b.WriteString(p.qcols[i])
		b.WriteString(", ")
	}
	b.WriteString("0::int2, 0::int4 FROM ")
	b.WriteString(p.qtarget)
	b.WriteString(" t WITH NO DATA")
	if _, err := w.tx.Exec(ctx, b.String()); err != nil {
		return fmt.Errorf("postgres sink: creating stage table for %s: %w", p.qtarget, err)
	}
	w.s.staged[name] = true
	w.newStg = append(w.newStg, p)
	return nil
}

// checkConflicts fails with the first conflicting key under ConflictFail.
func (w *batchWriter) checkConflicts(ctx context.Context, p *tablePlan) error {
	var op int16
	var keyVals []string
	err := w.tx.QueryRow(ctx, p.conflictSQL()).Scan(&op, &keyVals)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("postgres sink: checking conflicts in %s: %w", p.qtarget, err)
	}
	var key strings.Builder
	for i, k := range p.t.Key {
		if i > 0 {
			key.WriteString(", ")
		}
		key.WriteString(p.cols[k] + "=" + keyVals[i])
	}
	what := map[int16]string{
		opInsertNew:    "insert of a key that already exists",
		opUpdateExists: "update of a row that does not exist",
		opDeleteExists: "delete of a row that does not exist",
	}[op]
	return sluice.Permanent(fmt.Errorf("postgres sink: table %s (target %s): %w: %s, key (%s) (conflict policy fail; use ConflictIgnore or ConflictOverwrite, or fix the target row)",
		p.t.ID, p.qtarget, ErrConflict, what, key.String()))
}

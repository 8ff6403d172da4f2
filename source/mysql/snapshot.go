package mysql

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/source"
)

// snapRun is one (possibly resumed) initial snapshot.
type snapRun struct {
	s       *Source
	flavor  string
	metas   []*tableMeta // index = snapState.Tables index
	convs   [][]conv
	state   *snapState
	start   position // binlog start (File, Offset, GTID, Schemas)
	workers int
}

// openSnapshot opens n connections that see one consistent cut of the
// selected tables and returns the binlog position of that cut. The selected
// tables are locked (LOCK TABLES ... READ) only while the transactions are
// opened; with MariaDB and no lock privilege it falls back to a single
// connection and MariaDB's binlog_snapshot_file/position.
func (s *Source) openSnapshot(ctx context.Context, flavor string, ids []sluice.TableID, n int, whileLocked func() error) (conns []*sql.Conn, file string, off uint32, gtid string, err error) {
	defer func() {
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			conns = nil
		}
	}()
	lock, err := s.db.Conn(ctx)
	if err != nil {
		return nil, "", 0, "", s.connErr(err)
	}
	defer lock.Close()
	locked := false
	if len(ids) > 0 {
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = quoteTable(id) + " READ"
		}
		// Do not queue behind a long transaction for ever (the default
		// lock_wait_timeout is a year): MariaDB then falls back to one
		// unlocked snapshot, MySQL reports it.
		lock.ExecContext(ctx, "SET SESSION lock_wait_timeout = 20") //nolint:errcheck // best effort
		if _, lerr := lock.ExecContext(ctx, "LOCK TABLES "+strings.Join(parts, ", ")); lerr != nil {
			if flavor != gomysql.MariaDBFlavor {
				return nil, "", 0, "", fmt.Errorf("locking the selected tables briefly to open a consistent snapshot (grant LOCK TABLES): %w", s.connErr(lerr))
			}
			s.cfg.Logger.Warn("mysql source: cannot lock tables; snapshot uses one connection", "err", lerr)
			n = 1
		} else {
			locked = true
		}
	}
	unlock := func() {
		if locked {
			lock.ExecContext(context.WithoutCancel(ctx), "UNLOCK TABLES") //nolint:errcheck // the connection is closed next anyway
			locked = false
		}
	}
	defer unlock()
	if whileLocked != nil {
		if err := whileLocked(); err != nil {
			return nil, "", 0, "", err
		}
	}
	for i := 0; i < n; i++ {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return conns, "", 0, "", s.connErr(err)
		}
		conns = append(conns, c)
		for _, q := range []string{
			"SET SESSION time_zone = '+00:00'",
			"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
			"START TRANSACTION WITH CONSISTENT SNAPSHOT",
		} {
			if _, err := c.ExecContext(ctx, q); err != nil {
				return conns, "", 0, "", fmt.Errorf("opening snapshot transaction (%s): %w", q, s.connErr(err))
			}
		}
	}
	if flavor == gomysql.MariaDBFlavor {
		rows, err := conns[0].QueryContext(ctx, "SHOW STATUS LIKE 'binlog_snapshot_%'")
		if err != nil {
			return conns, "", 0, "", fmt.Errorf("reading binlog_snapshot_file/position: %w", err)
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return conns, "", 0, "", err
			}
			switch strings.ToLower(k) {
			case "binlog_snapshot_file":
				file = v
			case "binlog_snapshot_position":
				var u uint64
				fmt.Sscan(v, &u)
				off = uint32(u)
			}
		}
		rows.Close()
		if file == "" {
			return conns, "", 0, "", sluice.Permanent(errors.New("binlog_snapshot_file is empty: the binary log is off (set log_bin)"))
		}
		gtid, _ = s.mariaGTIDAt(ctx, conns[0], file, off)
	} else {
		file, off, gtid, err = s.masterStatus(ctx, lock)
		if err != nil {
			return conns, "", 0, "", err
		}
	}
	unlock()
	return conns, file, off, gtid, nil
}

// runSnapshot reads every selected table (or, resuming, what remains of
// them) and then streams the binlog from the snapshot's start position.
func (s *Source) runSnapshot(ctx context.Context, resume *position, out source.Emitter, track func(*position)) error {
	flavor, _, _ := s.serverInfo(ctx)
	r := &snapRun{s: s, flavor: flavor, workers: s.cfg.SnapshotWorkers}
	var ids []sluice.TableID
	var fresh []*tableMeta
	if resume == nil {
		var err error
		ids, err = s.schemaReader().listTables(ctx, s.sel)
		if err != nil {
			return s.connErr(err)
		}
	} else {
		metas, err := decodeSchemas(resume.Schemas)
		if err != nil {
			return sluice.Permanent(fmt.Errorf("mysql source: position schemas: %w", err))
		}
		r.state = resume.Snap.clone()
		for _, t := range r.state.Tables {
			id := sluice.TableID{Schema: t.Schema, Name: t.Name}
			m := metas[id]
			if m != nil {
				m = s.intern(m)
			}
			if m == nil {
				return sluice.Permanent(fmt.Errorf("mysql source: position lacks the schema of %s; start without a checkpoint to re-snapshot", id))
			}
			r.metas = append(r.metas, m)
			ids = append(ids, id)
		}
		r.start = position{Flavor: resume.Flavor, File: resume.File, Offset: resume.Offset, GTID: resume.GTID, Schemas: resume.Schemas}
	}
	loadFresh := func() error {
		rd := s.schemaReader()
		for _, id := range ids {
			m, err := rd.load(ctx, id)
			if err != nil {
				return err
			}
			if m == nil {
				if resume != nil {
					return sluice.Permanent(fmt.Errorf("mysql source: table %s was dropped while its snapshot was interrupted; start without a checkpoint to re-snapshot", id))
				}
				continue
			}
			fresh = append(fresh, m)
		}
		if resume != nil {
			for i, m := range fresh {
				if !m.t.SameShape(r.metas[i].t) && !tableDone(r.state.Tables[i]) {
					return sluice.Permanent(fmt.Errorf("mysql source: the schema of %s changed while its snapshot was interrupted; start without a checkpoint to re-snapshot", m.t.ID))
				}
			}
		}
		return nil
	}
	conns, file, off, gtid, err := s.openSnapshot(ctx, flavor, ids, r.workers, loadFresh)
	if err != nil {
		return err
	}
	defer func() {
		for _, c := range conns {
			c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck
			c.Close()
		}
	}()
	r.workers = len(conns)
	if resume == nil {
		r.metas = fresh
		m := make(map[sluice.TableID]*tableMeta, len(fresh))
		for _, t := range fresh {
			m[t.t.ID] = t
		}
		r.start = position{Flavor: flavor, File: file, Offset: off, GTID: gtid, Schemas: encodeSchemas(m)}
		r.state = &snapState{}
		for _, t := range fresh {
			st, err := r.plan(ctx, conns[0], t)
			if err != nil {
				return err
			}
			r.state.Tables = append(r.state.Tables, st)
		}
	}
	s.cfg.Logger.Info("mysql source: snapshot opened", "tables", len(r.metas), "workers", r.workers, "binlog_file", r.start.File, "binlog_pos", r.start.Offset, "resumed", resume != nil)
	for _, m := range r.metas {
		r.convs = append(r.convs, newConvs(m, s.cfg.ZeroDate, flavor))
	}
	if err := r.read(ctx, conns, out, track); err != nil {
		return err
	}
	// Release the snapshot transactions before streaming.
	for _, c := range conns {
		c.ExecContext(ctx, "ROLLBACK") //nolint:errcheck
		c.Close()
	}
	conns = nil
	p := r.start
	s.cfg.Logger.Info("mysql source: snapshot done; streaming", "binlog_file", p.File, "binlog_pos", p.Offset)
	return s.stream(ctx, &p, out, track)
}

func tableDone(t snapTable) bool {
	for _, g := range t.Segs {
		if !g.Done {
			return false
		}
	}
	return true
}

// plan splits a table into key-range segments: several for a single-column
// integer key when the table is large, otherwise one.
func (r *snapRun) plan(ctx context.Context, c *sql.Conn, m *tableMeta) (snapTable, error) {
	st := snapTable{Schema: m.t.ID.Schema, Name: m.t.ID.Name}
	var est sql.NullInt64
	r.s.db.QueryRowContext(ctx, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", m.t.ID.Schema, m.t.ID.Name).Scan(&est) //nolint:errcheck // an estimate only
	st.Total = est.Int64
	st.Segs = []segState{{}}
	if len(m.t.Key) != 1 || r.workers < 2 || st.Total < int64(2*r.s.cfg.ChunkSize) {
		return st, nil
	}
	k := m.t.Columns[m.t.Key[0]]
	if k.Type.Kind != sluice.KindInt && k.Type.Kind != sluice.KindUint {
		return st, nil
	}
	q := fmt.Sprintf("SELECT MIN(%s), MAX(%s) FROM %s", quoteIdent(k.Name), quoteIdent(k.Name), quoteTable(m.t.ID))
	var lo, hi sql.NullString
	if err := c.QueryRowContext(ctx, q).Scan(&lo, &hi); err != nil {
		return st, fmt.Errorf("reading the key range of %s: %w", m.t.ID, err)
	}
	if !lo.Valid || !hi.Valid {
		return st, nil
	}
	n := r.workers * 2
	var bounds []keyVal
	if k.Type.Kind == sluice.KindInt {
		var a, b int64
		fmt.Sscan(lo.String, &a)
		fmt.Sscan(hi.String, &b)
		span := uint64(b) - uint64(a)
		if span < uint64(n) {
			return st, nil
		}
		for i := 1; i < n; i++ {
			bounds = append(bounds, toKeyVal(int64(uint64(a)+span/uint64(n)*uint64(i))))
		}
	} else {
		var a, b uint64
		fmt.Sscan(lo.String, &a)
		fmt.Sscan(hi.String, &b)
		span := b - a
		if span < uint64(n) {
			return st, nil
		}
		for i := 1; i < n; i++ {
			bounds = append(bounds, toKeyVal(a+span/uint64(n)*uint64(i)))
		}
	}
	st.Segs = nil
	for i := 0; i <= len(bounds); i++ {
		var g segState
		if i > 0 {
			g.Lo = []keyVal{bounds[i-1]}
		}
		if i < len(bounds) {
			g.Hi = []keyVal{bounds[i]}
		}
		st.Segs = append(st.Segs, g)
	}
	return st, nil
}

// chunk is what a worker hands to the emitting goroutine.
type chunk struct {
	ti, si int
	rows   []sluice.Row
	sizes  []int
	last   []keyVal
	done   bool
}

type segJob struct {
	ti, si int
	seg    segState
}

// read runs the workers and emits their chunks in one goroutine, attaching
// a Pos (the snapshot state after the chunk) to each chunk's last row.
func (r *snapRun) read(ctx context.Context, conns []*sql.Conn, out source.Emitter, track func(*position)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan segJob)
	results := make(chan chunk, len(conns))
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		cancel()
	}
	for _, c := range conns {
		wg.Add(1)
		go func(c *sql.Conn) {
			defer wg.Done()
			for j := range jobs {
				if err := r.readSegment(ctx, c, j, results); err != nil {
					fail(err)
					return
				}
			}
		}(c)
	}
	go func() {
		defer close(jobs)
		for ti, t := range r.state.Tables {
			for si, g := range t.Segs {
				if g.Done {
					continue
				}
				select {
				case jobs <- segJob{ti: ti, si: si, seg: g}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	for ti, t := range r.state.Tables { // tables finished before a crash
		if tableDone(t) {
			out.Progress(sluice.Progress{Table: r.metas[ti].t.ID, Rows: tableRows(t), Total: t.Total, Done: true})
		}
	}
	for ch := range results {
		if ctx.Err() != nil {
			continue // drain
		}
		if err := r.emit(ch, out, track); err != nil {
			fail(err)
		}
	}
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func tableRows(t snapTable) int64 {
	var n int64
	for _, g := range t.Segs {
		n += g.Rows
	}
	return n
}

func (r *snapRun) emit(ch chunk, out source.Emitter, track func(*position)) error {
	t := &r.state.Tables[ch.ti]
	g := &t.Segs[ch.si]
	g.Rows += int64(len(ch.rows))
	if len(ch.last) > 0 {
		g.Last = ch.last
	}
	g.Done = ch.done
	p := r.start
	p.Snap = r.state.clone()
	enc := p.encode()
	now := time.Now()
	tbl := r.metas[ch.ti].t
	for i, row := range ch.rows {
		c := sluice.Change{Op: sluice.OpRead, Table: tbl, After: row, Time: now, Size: ch.sizes[i]}
		if i == len(ch.rows)-1 {
			c.Pos = enc
		}
		if err := out.Emit(c); err != nil {
			return err
		}
	}
	if len(ch.rows) == 0 {
		if err := out.Emit(sluice.Change{Op: sluice.OpHeartbeat, Time: now, Pos: enc}); err != nil {
			return err
		}
	}
	if track != nil {
		track(&p)
	}
	total := t.Total
	rows := tableRows(*t)
	done := tableDone(*t)
	if rows > total {
		total = rows
	}
	out.Progress(sluice.Progress{Table: tbl.ID, Rows: rows, Total: total, Done: done})
	return nil
}

// readSegment reads one segment chunk by chunk on c.
func (r *snapRun) readSegment(ctx context.Context, c *sql.Conn, j segJob, results chan<- chunk) error {
	m := r.metas[j.ti]
	convs := r.convs[j.ti]
	limit := r.s.cfg.ChunkSize
	last := j.seg.Last
	cols := make([]string, len(m.t.Columns))
	for i, col := range m.t.Columns {
		cols[i] = quoteIdent(col.Name)
	}
	keyCols := make([]string, len(m.t.Key))
	for i, k := range m.t.Key {
		keyCols[i] = quoteIdent(m.t.Columns[k].Name)
	}
	if len(keyCols) == 0 {
		return sluice.Permanent(fmt.Errorf("table %s has no primary key: add one or name key columns in Config.Keys", m.t.ID))
	}
	base := "SELECT " + strings.Join(cols, ", ") + " FROM " + quoteTable(m.t.ID)
	for {
		var where []string
		var args []any
		if last != nil {
			w, a := keysetAfter(keyCols, last)
			where = append(where, w)
			args = append(args, a...)
		} else if j.seg.Lo != nil {
			where = append(where, keyCols[0]+" >= ?")
			args = append(args, j.seg.Lo[0].arg())
		}
		if j.seg.Hi != nil {
			where = append(where, keyCols[0]+" < ?")
			args = append(args, j.seg.Hi[0].arg())
		}
		q := base
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		// LIMIT is a parameter, so even the first chunk has one and goes
		// through the binary protocol.
		q += " ORDER BY " + strings.Join(keyCols, ", ") + " LIMIT ?"
		args = append(args, int64(limit))
		ch := chunk{ti: j.ti, si: j.si}
		chunkBytes, cut := 0, false
		err := queryBinary(ctx, c, q, args, len(cols), func(vals []sqldriver.Value) error {
			if chunkBytes >= r.s.cfg.ChunkBytes {
				cut = true // large rows: end the chunk early, the next one starts after its last key
				return errStopChunk
			}
			row := make(sluice.Row, len(vals))
			size := 0
			for i, v := range vals {
				x, err := convs[i].fromSnapshot(v)
				if err != nil {
					return fmt.Errorf("table %s: %w", m.t.ID, err)
				}
				row[i] = x
				if b, ok := v.([]byte); ok {
					size += len(b)
				} else {
					size += 8
				}
			}
			ch.rows = append(ch.rows, row)
			ch.sizes = append(ch.sizes, size)
			chunkBytes += size
			return nil
		})
		if err == errStopChunk {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("reading snapshot chunk of %s: %w", m.t.ID, err)
		}
		ch.done = len(ch.rows) < limit && !cut
		if n := len(ch.rows); n > 0 {
			lr := ch.rows[n-1]
			prev := last
			last = make([]keyVal, len(m.t.Key))
			for i, k := range m.t.Key {
				last[i] = keyValOf(lr[k], m.t.Columns[k].Type.Kind)
			}
			if !ch.done && reflect.DeepEqual(prev, last) {
				return sluice.Permanent(fmt.Errorf("table %s: the snapshot cannot page past key %v (a key value is not representable, such as a date with a zero month); name other key columns in Config.Keys", m.t.ID, last))
			}
			ch.last = last
		}
		select {
		case results <- ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		if ch.done {
			return nil
		}
	}
}

// errStopChunk ends a chunk's result set early.
var errStopChunk = errors.New("chunk byte budget reached")

// keysetAfter renders (k1, k2, ...) > (v1, v2, ...) as an OR of prefixes,
// which every MySQL and MariaDB version turns into index ranges.
func keysetAfter(keys []string, last []keyVal) (string, []any) {
	var ors []string
	var args []any
	for i := range keys {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, keys[j]+" = ?")
			args = append(args, last[j].arg())
		}
		ands = append(ands, keys[i]+" > ?")
		args = append(args, last[i].arg())
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}

// queryBinary runs q as a prepared statement (binary protocol: exact FLOAT
// values) directly on the driver connection, calling fn for each row. The
// values passed to fn are only valid during the call.
func queryBinary(ctx context.Context, c *sql.Conn, q string, args []any, ncols int, fn func([]sqldriver.Value) error) error {
	return c.Raw(func(dc any) error {
		pc, ok := dc.(sqldriver.ConnPrepareContext)
		if !ok {
			return errors.New("driver connection cannot prepare statements")
		}
		st, err := pc.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		defer st.Close()
		sq, ok := st.(sqldriver.StmtQueryContext)
		if !ok {
			return errors.New("driver statement cannot query")
		}
		named := make([]sqldriver.NamedValue, len(args))
		for i, a := range args {
			named[i] = sqldriver.NamedValue{Ordinal: i + 1, Value: a}
		}
		rows, err := sq.QueryContext(ctx, named)
		if err != nil {
			return err
		}
		defer rows.Close()
		dest := make([]sqldriver.Value, ncols)
		for {
			if err := rows.Next(dest); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
			if err := fn(dest); err != nil {
				return err
			}
		}
	})
}

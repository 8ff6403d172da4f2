package mysql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/source"
)

// eventCache is how many decoded binlog events may wait for Emit.
const eventCache = 1024

// tableDec decodes the rows of one table version.
type tableDec struct {
	meta  *tableMeta
	convs []conv
}

// row converts one binlog row into row (len(row) == number of columns).
func (d *tableDec) row(row sluice.Row, vals []any) (sluice.Row, int, error) {
	if len(vals) != len(d.convs) {
		return nil, 0, fmt.Errorf("table %s: binlog row has %d columns, tracked schema has %d", d.meta.t.ID, len(vals), len(d.convs))
	}
	size := 0
	for i, v := range vals {
		x, err := d.convs[i].fromBinlog(v)
		if err != nil {
			return nil, 0, fmt.Errorf("table %s: %w", d.meta.t.ID, err)
		}
		row[i] = x
		switch b := v.(type) {
		case string:
			size += len(b)
		case []byte:
			size += len(b)
		default:
			size += 8
		}
	}
	return row, size, nil
}

// streamer follows the binlog from a transaction boundary.
type streamer struct {
	s      *Source
	out    source.Emitter
	track  func(*position)
	flavor string

	schemas    map[sluice.TableID]*tableMeta
	schemasRaw json.RawMessage // cached encoding of schemas; nil when stale

	// the last transaction boundary
	file   string
	offset uint32
	gset   gomysql.GTIDSet

	// the transaction being read
	curFile    string
	inTxn      bool
	txnGTID    string
	held       sluice.Change // the latest change, held back until we know whether it ends the transaction
	hasHeld    bool
	txnEmitted int // changes of the current transaction already emitted
	skip       int // after a reconnect: changes of the first transaction to drop (emitted before)

	origin   string // Change.Origin for originID
	originID uint32
	tableMap map[uint64]*tableDec
	decs     map[*tableMeta]*tableDec
	lastPos  time.Time

	// watchdog: the connection is considered dead when no event arrived for
	// stallAfter while the source was not blocked in Emit.
	inEmit   atomic.Bool
	activity atomic.Uint64 // bumped per event received and per Emit
}

// errTransient marks a server error that a reconnect may cure.
type errTransient struct{ err error }

func (e errTransient) Error() string { return e.err.Error() }
func (e errTransient) Unwrap() error { return e.err }

// errStalled ends a binlog session whose connection went silent.
var errStalled = errors.New("no binlog event or heartbeat received in time")

func (st *streamer) stallAfter() time.Duration { return 3*st.s.cfg.HeartbeatPeriod + 5*time.Second }

// stream follows the binlog from pos until ctx ends or a fatal error.
func (s *Source) stream(ctx context.Context, pos *position, out source.Emitter, track func(*position)) error {
	flavor, _, err := s.serverInfo(ctx)
	if err != nil {
		return err
	}
	st := &streamer{s: s, out: out, track: track, flavor: flavor, file: pos.File, offset: pos.Offset,
		tableMap: map[uint64]*tableDec{}, decs: map[*tableMeta]*tableDec{}}
	if len(pos.Schemas) > 0 {
		if st.schemas, err = decodeSchemas(pos.Schemas); err != nil {
			return sluice.Permanent(fmt.Errorf("mysql source: position schemas: %w", err))
		}
		for id, m := range st.schemas {
			st.schemas[id] = s.intern(m)
		}
		st.schemasRaw = pos.Schemas
	} else {
		st.schemas = map[sluice.TableID]*tableMeta{}
	}
	if st.gset, err = gomysql.ParseGTIDSet(flavor, pos.GTID); err != nil {
		return sluice.Permanent(fmt.Errorf("mysql source: GTID set %q: %w", pos.GTID, err))
	}
	if s.cfg.ResumeByGTID && pos.GTID != "" {
		st.file, st.offset = "", 0 // StartSyncGTID; the fake rotate event gives the file
	}
	var failingSince time.Time
	backoff := 200 * time.Millisecond
	for {
		progressed, err := st.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil || !isTransient(err) {
			return err
		}
		if progressed || failingSince.IsZero() {
			failingSince = time.Now()
			backoff = 200 * time.Millisecond
		}
		if time.Since(failingSince) > s.cfg.RetryWindow {
			return sluice.Permanent(fmt.Errorf("mysql source: binlog connection to %s failing since %s (retry window %s): %w",
				s.cfg.Addr, failingSince.UTC().Format(time.RFC3339), s.cfg.RetryWindow, err))
		}
		s.cfg.Logger.Warn("mysql source: binlog connection lost; resuming at the last transaction boundary",
			"file", st.file, "pos", st.offset, "err", err)
		// Resume at the last boundary; drop what was already emitted of the
		// interrupted transaction so it is neither split nor duplicated.
		st.skip = st.txnEmitted
		st.txnEmitted = 0
		st.hasHeld = false
		st.inTxn = false
		st.tableMap = map[uint64]*tableDec{}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (st *streamer) syncerConfig() replication.BinlogSyncerConfig {
	s := st.s
	host, portS, _ := strings.Cut(s.cfg.Addr, ":")
	if h, p, ok := splitHostPort(s.cfg.Addr); ok {
		host, portS = h, p
	}
	port, _ := strconv.Atoi(portS)
	return replication.BinlogSyncerConfig{
		ServerID:        s.cfg.ServerID,
		Flavor:          st.flavor,
		Host:            host,
		Port:            uint16(port),
		User:            s.cfg.User,
		Password:        s.cfg.Password,
		TLSConfig:       s.cfg.TLS,
		ParseTime:       true,
		HeartbeatPeriod: s.cfg.HeartbeatPeriod,
		// No ReadTimeout: it would also fire while a slow sink blocks Emit
		// (a paused pipeline); the session's watchdog detects dead links.
		DisableRetrySync: true,
		EventCacheCount:  eventCache, // bounded read-ahead (events are at most binlog_row_event_max_size, 8 KiB by default)
		Logger:           quietLogger(s.cfg.Logger),
	}
}

// session runs one binlog connection. progressed reports whether any
// transaction completed, so the retry window restarts.
func (st *streamer) session(ctx context.Context) (progressed bool, err error) {
	syncer := replication.NewBinlogSyncer(st.syncerConfig())
	defer syncer.Close()
	var bs *replication.BinlogStreamer
	if st.file != "" {
		bs, err = syncer.StartSync(gomysql.Position{Name: st.file, Pos: st.offset})
	} else {
		bs, err = syncer.StartSyncGTID(st.gset.Clone())
	}
	if err != nil {
		return false, st.wrapStreamErr(err)
	}
	st.curFile = st.file
	startOffset := st.offset
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var stalled atomic.Bool
	go func() {
		tick := time.NewTicker(min(st.s.cfg.HeartbeatPeriod, time.Second))
		defer tick.Stop()
		seen, since := st.activity.Load(), time.Now()
		for {
			select {
			case <-wctx.Done():
				return
			case now := <-tick.C:
				if a := st.activity.Load(); a != seen || st.inEmit.Load() {
					seen, since = a, now
				} else if now.Sub(since) > st.stallAfter() {
					stalled.Store(true)
					stop()
					return
				}
			}
		}
	}()
	for {
		ev, err := bs.GetEvent(wctx)
		if err != nil {
			if ctx.Err() != nil {
				return progressed, ctx.Err()
			}
			if stalled.Load() {
				return progressed, fmt.Errorf("mysql source: binlog stream from %s: %w (%s)", st.s.cfg.Addr, errStalled, st.stallAfter())
			}
			return progressed, st.wrapStreamErr(err)
		}
		st.activity.Add(1)
		before := st.offset
		if err := st.handle(ctx, ev); err != nil {
			return progressed, err
		}
		if st.offset != before || st.offset != startOffset {
			progressed = true
		}
	}
}

func (st *streamer) wrapStreamErr(err error) error {
	var me *gomysql.MyError
	if errors.As(err, &me) {
		if me.Code == 1236 {
			where := fmt.Sprintf("binlog file %s offset %d", st.file, st.offset)
			if st.file == "" {
				where = "GTID set " + st.gset.String()
			}
			return sluice.Permanent(fmt.Errorf("mysql source: %w: %s is no longer on %s (%s); start without a checkpoint to take a new snapshot",
				source.ErrPositionLost, where, st.s.cfg.Addr, me.Message))
		}
		if transientCode(me.Code) {
			return fmt.Errorf("mysql source: binlog stream from %s: %w", st.s.cfg.Addr, errTransient{err})
		}
		if me.Code == 1045 {
			return sluice.Permanent(fmt.Errorf("mysql source: binlog connection to %s as %q: access denied: %w", st.s.cfg.Addr, st.s.cfg.User, err))
		}
		return sluice.Permanent(fmt.Errorf("mysql source: binlog stream from %s: %w", st.s.cfg.Addr, err))
	}
	return fmt.Errorf("mysql source: binlog stream from %s: %w", st.s.cfg.Addr, err)
}

func (st *streamer) handle(ctx context.Context, ev *replication.BinlogEvent) error {
	h := ev.Header
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		st.curFile = string(e.NextLogName)
		if !st.inTxn {
			st.file, st.offset = st.curFile, uint32(e.Position)
		}
	case *replication.MariadbGTIDEvent:
		// MariaDB has no BEGIN event: a GTID event starts a transaction,
		// unless it is standalone (one statement follows: DDL and the like).
		st.txnGTID = e.GTID.String()
		st.inTxn = !e.IsStandalone()
	case *replication.GTIDEvent:
		// MySQL: a BEGIN query event follows for transactions.
		st.txnGTID = ""
		if g, err := e.GTIDNext(); err == nil {
			st.txnGTID = g.String()
		}
	case *replication.QueryEvent:
		q := strings.TrimSpace(string(e.Query))
		switch {
		case strings.EqualFold(q, "BEGIN"):
			st.inTxn = true
		case strings.EqualFold(q, "COMMIT"):
			return st.commit(h)
		default:
			if st.inTxn && !isDDL(q) {
				return nil // a statement inside a transaction (temporary tables): no rows for us
			}
			if err := st.ddl(ctx, string(e.Schema), q, h); err != nil {
				return err
			}
			return st.commit(h)
		}
	case *replication.TableMapEvent:
		return st.tableMapEvent(ctx, e)
	case *replication.RowsEvent:
		return st.rows(h, e)
	case *replication.XIDEvent:
		return st.commit(h)
	case *replication.TransactionPayloadEvent:
		// MySQL binlog_transaction_compression: a whole transaction in one
		// event. Its inner events carry no usable end positions, so the
		// transaction ends at the payload event's own end.
		for _, sub := range e.Events {
			if sub.Header != nil {
				sh := *sub.Header
				sh.LogPos = h.LogPos
				sub.Header = &sh
			}
			if err := st.handle(ctx, sub); err != nil {
				return err
			}
		}
	default:
		if h.EventType == replication.HEARTBEAT_EVENT || h.EventType == replication.HEARTBEAT_LOG_EVENT_V2 {
			if !st.inTxn && !st.hasHeld && st.file != "" {
				st.lastPos = time.Now()
				return st.emit(sluice.Change{Op: sluice.OpHeartbeat, Time: time.Now(), Pos: st.posBytes()})
			}
		}
	}
	return nil
}

func (st *streamer) tableMapEvent(ctx context.Context, e *replication.TableMapEvent) error {
	id := sluice.TableID{Schema: string(e.Schema), Name: string(e.Table)}
	m := st.schemas[id]
	if m == nil {
		if !st.s.sel.selected(id.Schema, id.Name) {
			st.tableMap[e.TableID] = nil
			return nil
		}
		// A selected table we have no history for (created before a start
		// position given by the user): today's schema is the best we have.
		nm, err := st.s.schemaReader().load(ctx, id)
		if err != nil {
			return err
		}
		if nm == nil {
			return sluice.Permanent(fmt.Errorf("mysql source: binlog has rows for %s but the table no longer exists and its schema is unknown; start without a checkpoint to re-snapshot", id))
		}
		st.s.cfg.Logger.Warn("mysql source: no schema history for table; using its current schema", "table", id)
		st.setSchema(nm)
		m = nm
	}
	if int(e.ColumnCount) != len(m.t.Columns) {
		return sluice.Permanent(fmt.Errorf("mysql source: table %s: binlog has %d columns but the tracked schema has %d (schema drift: a DDL was not seen); start without a checkpoint to re-snapshot",
			id, e.ColumnCount, len(m.t.Columns)))
	}
	d := st.decs[m]
	if d == nil {
		d = &tableDec{meta: m, convs: newConvs(m, st.s.cfg.ZeroDate, st.flavor)}
		st.decs[m] = d
	}
	st.tableMap[e.TableID] = d
	return nil
}

func (st *streamer) setSchema(m *tableMeta) {
	st.schemas[m.t.ID] = m
	st.schemasRaw = nil
}

func (st *streamer) rows(h *replication.EventHeader, e *replication.RowsEvent) error {
	d, ok := st.tableMap[e.TableID]
	if !ok || d == nil {
		return nil
	}
	for _, sk := range e.SkippedColumns {
		if len(sk) > 0 {
			return sluice.Permanent(fmt.Errorf("mysql source: table %s: the binlog row image lacks columns (binlog_row_image is not FULL); SET GLOBAL binlog_row_image = 'FULL' and re-snapshot", d.meta.t.ID))
		}
	}
	ts := time.Unix(int64(h.Timestamp), 0).UTC()
	var op sluice.Op
	switch h.EventType {
	case replication.WRITE_ROWS_EVENTv0, replication.WRITE_ROWS_EVENTv1, replication.WRITE_ROWS_EVENTv2, replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1:
		op = sluice.OpInsert
	case replication.UPDATE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2, replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1:
		op = sluice.OpUpdate
	case replication.DELETE_ROWS_EVENTv0, replication.DELETE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv2, replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		op = sluice.OpDelete
	default:
		return sluice.Permanent(fmt.Errorf("mysql source: table %s: unsupported rows event %s (partial JSON updates? set binlog_row_value_options = '')", d.meta.t.ID, h.EventType))
	}
	if h.ServerID != st.originID || st.origin == "" {
		st.originID, st.origin = h.ServerID, strconv.FormatUint(uint64(h.ServerID), 10)
	}
	origin := st.origin
	step := 1
	if op == sluice.OpUpdate {
		step = 2
	}
	// One backing array for all rows of the event: one allocation, not one
	// per row (rows of an event are released together anyway).
	ncol := len(d.convs)
	slab := make([]any, len(e.Rows)*ncol)
	next := func() sluice.Row {
		r := sluice.Row(slab[:ncol:ncol])
		slab = slab[ncol:]
		return r
	}
	for i := 0; i+step <= len(e.Rows); i += step {
		if len(e.Rows[i]) != ncol || (step == 2 && len(e.Rows[i+1]) != ncol) {
			return sluice.Permanent(fmt.Errorf("mysql source: table %s: binlog row has %d columns, tracked schema has %d (schema drift); start without a checkpoint to re-snapshot", d.meta.t.ID, len(e.Rows[i]), ncol))
		}
		r1, n1, err := d.row(next(), e.Rows[i])
		if err != nil {
			return sluice.Permanent(err)
		}
		c := sluice.Change{Op: op, Table: d.meta.t, Time: ts, Size: n1, Origin: origin}
		switch op {
		case sluice.OpInsert:
			c.After = r1
		case sluice.OpDelete:
			c.Before = r1
		case sluice.OpUpdate:
			r2, n2, err := d.row(next(), e.Rows[i+1])
			if err != nil {
				return sluice.Permanent(err)
			}
			c.Before, c.After, c.Size = r1, r2, n1+n2
		}
		if i+step < len(e.Rows) {
			// Not the event's last row, so not the transaction's last
			// change: emit it now instead of holding it back (no copy).
			if st.hasHeld {
				if err := st.emit(st.held); err != nil {
					return err
				}
				st.hasHeld = false
			}
			if err := st.emit(c); err != nil {
				return err
			}
			continue
		}
		if err := st.push(c); err != nil {
			return err
		}
	}
	return nil
}

// push holds c back and emits the previously held change.
func (st *streamer) push(c sluice.Change) error {
	if st.hasHeld {
		if err := st.emit(st.held); err != nil {
			return err
		}
	}
	st.held, st.hasHeld = c, true
	return nil
}

// emit passes c on, except changes a reconnect re-read.
func (st *streamer) emit(c sluice.Change) error {
	if st.skip > 0 && c.Op.IsRow() {
		st.skip--
		st.txnEmitted++
		return nil
	}
	st.inEmit.Store(true)
	err := st.out.Emit(c)
	st.inEmit.Store(false)
	st.activity.Add(1)
	if err != nil {
		return err
	}
	if c.Op.IsRow() {
		st.txnEmitted++
	}
	return nil
}

// commit ends the current transaction at the event h.
func (st *streamer) commit(h *replication.EventHeader) error {
	if h.LogPos > 0 {
		st.file, st.offset = st.curFile, h.LogPos
	}
	if st.txnGTID != "" {
		if err := st.gset.Update(st.txnGTID); err != nil {
			st.s.cfg.Logger.Warn("mysql source: cannot track GTID", "gtid", st.txnGTID, "err", err)
		}
	}
	st.inTxn, st.txnGTID = false, ""
	st.skip, st.txnEmitted = 0, 0
	var pos sluice.Position
	if st.hasHeld || time.Since(st.lastPos) >= st.s.cfg.HeartbeatPeriod {
		pos = st.posBytes()
		st.lastPos = time.Now()
	}
	if st.hasHeld {
		c := st.held
		st.held, st.hasHeld = sluice.Change{}, false
		c.Pos = pos
		if err := st.emit(c); err != nil {
			return err
		}
	} else if pos != nil {
		if err := st.emit(sluice.Change{Op: sluice.OpHeartbeat, Time: time.Unix(int64(h.Timestamp), 0).UTC(), Pos: pos}); err != nil {
			return err
		}
	}
	st.txnEmitted = 0
	return nil
}

// posBytes encodes the current transaction boundary.
func (st *streamer) posBytes() sluice.Position {
	if st.schemasRaw == nil {
		st.schemasRaw = encodeSchemas(st.schemas)
	}
	p := position{Flavor: st.flavor, File: st.file, Offset: st.offset, GTID: st.gset.String(), Schemas: st.schemasRaw}
	if st.track != nil {
		st.track(&p)
	}
	return p.encode()
}

func splitHostPort(addr string) (string, string, bool) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", "", false
	}
	h := strings.Trim(addr[:i], "[]")
	return h, addr[i+1:], true
}

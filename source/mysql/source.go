package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	driver "github.com/go-sql-driver/mysql"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/retry"
	"github.com/sluicecdc/sluice/source"
)

// Source reads a consistent snapshot and then the row-based binlog of a
// MySQL or MariaDB server. Create it with New.
type Source struct {
	cfg Config
	sel selector
	db  *sql.DB

	mu       sync.Mutex
	interned map[sluice.TableID]*tableMeta // latest version handed out per table
	flavor   string                        // gomysql.MySQLFlavor or gomysql.MariaDBFlavor, once known
	closed   bool
	version  string
}

var (
	_ source.Source     = (*Source)(nil)
	_ source.Prechecker = (*Source)(nil)
)

// New validates cfg and returns a Source. It does not connect: connection
// problems are reported by Precheck and Run.
func New(cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	dc := driver.NewConfig()
	dc.User = cfg.User
	dc.Passwd = cfg.Password
	dc.Net = "tcp"
	dc.Addr = cfg.Addr
	dc.TLS = cfg.TLS
	dc.Timeout = 10 * time.Second
	dc.MultiStatements = false
	dc.ParseTime = false
	dc.Collation = "utf8mb4_general_ci"
	conn, err := driver.NewConnector(dc)
	if err != nil {
		return nil, fmt.Errorf("mysql source: building connector for %s: %w", cfg.Addr, err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(cfg.SnapshotWorkers + 4)
	db.SetMaxIdleConns(cfg.SnapshotWorkers + 2)
	db.SetConnMaxIdleTime(time.Minute)
	return &Source{cfg: cfg, sel: newSelector(cfg), db: db}, nil
}

// Close releases the source's connections.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.db.Close()
}

// Ack is a no-op: the binlog is not retained on behalf of this reader, and
// every position the source emits is resumable on its own.
func (s *Source) Ack(context.Context, sluice.Position) error { return nil }

func (s *Source) schemaReader() *schemaReader {
	return &schemaReader{db: s.db, keys: s.cfg.Keys, intern: s.intern}
}

// intern returns the version already handed out for m's table when it is
// identical, so that one schema version has one *sluice.Table pointer for
// the life of the Source (Tables, snapshot and stream agree).
func (s *Source) intern(m *tableMeta) *tableMeta {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.interned == nil {
		s.interned = map[sluice.TableID]*tableMeta{}
	}
	if old := s.interned[m.t.ID]; old != nil && sameMeta(old, m) {
		return old
	}
	s.interned[m.t.ID] = m
	return m
}

func sameMeta(a, b *tableMeta) bool {
	if !a.t.SameShape(b.t) || !slices.Equal(a.charsets, b.charsets) || a.defCS != b.defCS {
		return false
	}
	for i := range a.t.Columns {
		if a.t.Columns[i].Native != b.t.Columns[i].Native {
			return false
		}
	}
	return true
}

// Tables resolves the selection to the current table versions.
func (s *Source) Tables(ctx context.Context) ([]*sluice.Table, error) {
	metas, err := s.currentTables(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*sluice.Table, len(metas))
	for i, m := range metas {
		out[i] = m.t
	}
	return out, nil
}

func (s *Source) currentTables(ctx context.Context) ([]*tableMeta, error) {
	r := s.schemaReader()
	ids, err := r.listTables(ctx, s.sel)
	if err != nil {
		return nil, s.connErr(err)
	}
	var out []*tableMeta
	for _, id := range ids {
		m, err := r.load(ctx, id)
		if err != nil {
			return nil, err
		}
		if m != nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// connErr makes connection errors clear (the password is never included:
// the driver does not put it in messages).
func (s *Source) connErr(err error) error {
	var me *driver.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1045:
			return sluice.Permanent(fmt.Errorf("connecting to %s as %q: access denied (check the user name and password): %w", s.cfg.Addr, s.cfg.User, err))
		case 1044, 1142, 1227:
			return sluice.Permanent(fmt.Errorf("on %s as %q: missing privilege (grant SELECT, REPLICATION SLAVE, REPLICATION CLIENT): %w", s.cfg.Addr, s.cfg.User, err))
		}
	}
	return err
}

// isTransient reports whether err is a network-level failure worth retrying.
func isTransient(err error) bool {
	if err == nil || sluice.IsPermanent(err) {
		return false
	}
	var et errTransient
	if errors.Is(err, errStalled) || errors.As(err, &et) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var me *driver.MySQLError
	if errors.As(err, &me) {
		return transientCode(me.Number)
	}
	s := err.Error()
	return errors.Is(err, driver.ErrInvalidConn) || strings.Contains(s, "connection refused") || strings.Contains(s, "EOF") ||
		strings.Contains(s, "broken pipe") || strings.Contains(s, "connection reset") || strings.Contains(s, "bad connection") || strings.Contains(s, "i/o timeout")
}

// transientCode reports whether a server error code means "try again":
// server shutting down, connection killed, too many connections, network
// read/write errors.
func transientCode(code uint16) bool {
	switch code {
	case 1040, 1053, 1077, 1152, 1158, 1159, 1160, 1161, 1927, 2006, 2013:
		return true
	}
	return false
}

// retryPolicy is the policy for connection failures.
func (s *Source) retryPolicy() retry.Policy {
	return retry.Policy{Window: s.cfg.RetryWindow, Initial: 200 * time.Millisecond, Max: 5 * time.Second}
}

// withRetry runs fn, retrying transient failures within the retry window.
func (s *Source) withRetry(ctx context.Context, what string, fn func(context.Context) error) error {
	return s.retryPolicy().Do(ctx, func(ctx context.Context) error {
		err := fn(ctx)
		if err != nil && !isTransient(err) {
			return sluice.Permanent(err)
		}
		return err
	}, func(attempt int, since time.Time, err error) {
		if isTransient(err) {
			s.cfg.Logger.Warn("mysql source: retrying", "what", what, "addr", s.cfg.Addr, "attempt", attempt, "err", err)
		}
	})
}

// serverInfo returns the flavor and version, connecting if needed.
func (s *Source) serverInfo(ctx context.Context) (string, string, error) {
	s.mu.Lock()
	f, v := s.flavor, s.version
	s.mu.Unlock()
	if f != "" {
		return f, v, nil
	}
	if err := s.db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return "", "", s.connErr(err)
	}
	f = gomysql.MySQLFlavor
	if strings.Contains(strings.ToLower(v), "mariadb") {
		f = gomysql.MariaDBFlavor
	}
	s.mu.Lock()
	s.flavor, s.version = f, v
	s.mu.Unlock()
	return f, v, nil
}

// masterStatus returns the server's current binlog file, offset and GTID set.
func (s *Source) masterStatus(ctx context.Context, q queryer) (string, uint32, string, error) {
	flavor, _, err := s.serverInfo(ctx)
	if err != nil {
		return "", 0, "", err
	}
	rows, err := q.QueryContext(ctx, "SHOW MASTER STATUS")
	if err != nil {
		rows, err = q.QueryContext(ctx, "SHOW BINARY LOG STATUS")
		if err != nil {
			return "", 0, "", fmt.Errorf("reading the binlog position (SHOW MASTER STATUS): %w", err)
		}
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		return "", 0, "", sluice.Permanent(errors.New("SHOW MASTER STATUS returned nothing: the binary log is off (set log_bin)"))
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", 0, "", err
	}
	file := vals[0].String
	off, _ := strconv.ParseUint(vals[1].String, 10, 32)
	gtid := ""
	if len(vals) >= 5 {
		gtid = strings.ReplaceAll(vals[4].String, "\n", "")
	}
	rows.Close()
	if flavor == gomysql.MariaDBFlavor {
		gtid, _ = s.mariaGTIDAt(ctx, q, file, uint32(off))
	}
	return file, uint32(off), gtid, nil
}

func (s *Source) mariaGTIDAt(ctx context.Context, q queryer, file string, off uint32) (string, error) {
	var g sql.NullString
	err := q.QueryRowContext(ctx, "SELECT BINLOG_GTID_POS(?, ?)", file, off).Scan(&g)
	return g.String, err
}

// queryer is *sql.DB or *sql.Conn.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Run delivers changes from the position from (nil: as Config.StartMode
// says) until ctx ends or a fatal error occurs. Before emitting anything it
// checks the server (binlog settings, tables, keys) and returns a clear
// error if a precondition fails.
func (s *Source) Run(ctx context.Context, from sluice.Position, out source.Emitter) error {
	var pos *position
	if from != nil {
		p, err := decodePosition(from)
		if err != nil {
			return sluice.Permanent(err)
		}
		pos = p
	}
	if err := s.withRetry(ctx, "connect", func(ctx context.Context) error {
		_, _, err := s.serverInfo(ctx)
		return err
	}); err != nil {
		return fmt.Errorf("mysql source: connecting to %s: %w", s.cfg.Addr, err)
	}
	if err := s.verify(ctx, pos); err != nil {
		return err
	}
	flavor, _, _ := s.serverInfo(ctx)

	if pos == nil {
		switch s.cfg.StartMode {
		case StartNow:
			p, err := s.nowPosition(ctx, flavor)
			if err != nil {
				return err
			}
			pos = p
		case StartFilePos, StartGTID:
			p, err := s.nowPosition(ctx, flavor)
			if err != nil {
				return err
			}
			p.File, p.Offset, p.GTID = s.cfg.StartFile, s.cfg.StartOffset, s.cfg.StartGTID
			if s.cfg.StartMode == StartGTID {
				p.File, p.Offset = "", 0
			}
			pos = p
		}
	}
	// The snapshot phase is retried on transient failures from the last
	// position it emitted; the binlog phase retries inside stream.
	var last *position
	track := func(p *position) { last = p }
	var failingSince time.Time
	for {
		var err error
		switch {
		case pos == nil:
			err = s.runSnapshot(ctx, nil, out, track)
		case pos.Snap != nil && !pos.Snap.done():
			err = s.runSnapshot(ctx, pos, out, track)
		default:
			p := *pos
			p.Snap = nil
			err = s.stream(ctx, &p, out, track)
		}
		if err == nil || ctx.Err() != nil || !isTransient(err) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if last != nil || failingSince.IsZero() {
			failingSince = time.Now()
		}
		if time.Since(failingSince) > s.cfg.RetryWindow {
			return fmt.Errorf("mysql source: failing since %s (retry window %s): %w", failingSince.UTC().Format(time.RFC3339), s.cfg.RetryWindow, err)
		}
		s.cfg.Logger.Warn("mysql source: transient failure; resuming from the last emitted position", "err", err)
		if last != nil {
			pos, last = last, nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// nowPosition is the server's current position with today's schemas.
func (s *Source) nowPosition(ctx context.Context, flavor string) (*position, error) {
	metas, err := s.currentTables(ctx)
	if err != nil {
		return nil, err
	}
	file, off, gtid, err := s.masterStatus(ctx, s.db)
	if err != nil {
		return nil, err
	}
	m := make(map[sluice.TableID]*tableMeta, len(metas))
	for _, t := range metas {
		m[t.t.ID] = t
	}
	return &position{Flavor: flavor, File: file, Offset: off, GTID: gtid, Schemas: encodeSchemas(m)}, nil
}

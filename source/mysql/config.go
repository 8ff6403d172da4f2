package mysql

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path"
	"strings"
	"time"
)

// StartMode says where Run begins when it is given no position.
type StartMode uint8

// Start modes.
const (
	// StartSnapshot (the default) reads every selected table in one
	// consistent snapshot, then streams the binlog from the position the
	// snapshot corresponds to.
	StartSnapshot StartMode = iota
	// StartNow streams the binlog from the server's current position,
	// without a snapshot.
	StartNow
	// StartFilePos streams from Config.StartFile and Config.StartOffset.
	StartFilePos
	// StartGTID streams from the GTID set Config.StartGTID.
	StartGTID
)

// ZeroDate says how zero dates (0000-00-00, and dates with a zero month or
// day) are delivered.
type ZeroDate uint8

// Zero-date policies.
const (
	// ZeroDateNull (the default) delivers zero dates as NULL (nil).
	ZeroDateNull ZeroDate = iota
	// ZeroDateKeep delivers a zero DATE as sluice.Date{} and a zero
	// DATETIME/TIMESTAMP as time.Time{} (the Go zero time, 0001-01-01 UTC).
	ZeroDateKeep
	// ZeroDateError makes Run fail on a zero date, naming the table.
	ZeroDateError
)

// Config configures a MySQL/MariaDB source. Zero values take the defaults
// documented on each field.
type Config struct {
	// Addr is host:port of the server (required).
	Addr string
	// User and Password are the credentials (User required). The password
	// never appears in logs or errors.
	User, Password string
	// TLS, when set, makes every connection use TLS.
	TLS *tls.Config
	// ServerID is the replica server id the binlog reader registers with; it
	// must differ from the server's own and from every other replica
	// (default 1001).
	ServerID uint32
	// Tables selects what is captured: "db.table", "db.*" (patterns with *
	// and ? are allowed in both parts) or "db" for a whole database
	// (required, at least one).
	Tables []string
	// Exclude removes tables matched by Tables, with the same syntax.
	Exclude []string
	// Keys names the key columns for tables without a primary key, by
	// "db.table"; without an entry such a table fails the precheck.
	Keys map[string][]string
	// StartMode says where Run begins without a position (default
	// StartSnapshot).
	StartMode StartMode
	// StartFile and StartOffset give the binlog position for StartFilePos.
	StartFile   string
	StartOffset uint32
	// StartGTID gives the GTID set for StartGTID (MariaDB "0-1-100" or
	// MySQL "uuid:1-100").
	StartGTID string
	// ResumeByGTID resumes from a position's GTID set instead of its binlog
	// file and offset (for instance after a failover to a replica with other
	// file names). The server needs GTIDs (MariaDB always has them; MySQL
	// needs gtid_mode=ON).
	ResumeByGTID bool
	// HeartbeatPeriod asks the server for a heartbeat when the binlog is idle
	// and emits an OpHeartbeat for it, so lag stays true (default 1s).
	HeartbeatPeriod time.Duration
	// ZeroDate is the zero-date policy (default ZeroDateNull).
	ZeroDate ZeroDate
	// SnapshotWorkers is the number of connections that read the snapshot in
	// parallel (default 2).
	SnapshotWorkers int
	// ChunkSize is the number of rows per snapshot chunk (default 8192).
	ChunkSize int
	// ChunkBytes ends a snapshot chunk early once its rows reach this many
	// bytes, so wide rows keep memory bounded (default 32 MiB). Memory for
	// the snapshot is about ChunkBytes × (2 × SnapshotWorkers + 1).
	ChunkBytes int
	// RetryWindow is how long connection failures are retried with backoff
	// before Run fails (default 1 minute; negative: no retry).
	RetryWindow time.Duration
	// Logger receives diagnostics (default slog.Default()).
	Logger *slog.Logger
}

const (
	defaultServerID  = 1001
	defaultHeartbeat = time.Second
	defaultWorkers   = 2
	defaultChunk     = 8192
	defaultRetry     = time.Minute
)

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.ServerID == 0 {
		c.ServerID = defaultServerID
	}
	if c.HeartbeatPeriod == 0 {
		c.HeartbeatPeriod = defaultHeartbeat
	}
	if c.SnapshotWorkers == 0 {
		c.SnapshotWorkers = defaultWorkers
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = defaultChunk
	}
	if c.ChunkBytes == 0 {
		c.ChunkBytes = 32 << 20
	}
	if c.RetryWindow == 0 {
		c.RetryWindow = defaultRetry
	}
	if c.RetryWindow < 0 {
		c.RetryWindow = 0
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// ErrConfig is wrapped by every error Validate returns.
var ErrConfig = errors.New("mysql source: invalid config")

// Validate checks the configuration and says what is wrong and how to fix it.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Addr == "" {
		bad("Addr is empty: set it to the server's host:port")
	} else if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("Addr %q is not host:port: %v", c.Addr, err)
	}
	if c.User == "" {
		bad("User is empty: set the replication user's name")
	}
	if len(c.Tables) == 0 {
		bad(`Tables is empty: list "db.table", "db.*" or "db" entries to capture`)
	}
	for _, list := range [][]string{c.Tables, c.Exclude} {
		for _, p := range list {
			if _, err := parsePattern(p); err != nil {
				bad("%v", err)
			}
		}
	}
	for name, cols := range c.Keys {
		if db, tb, ok := strings.Cut(name, "."); !ok || db == "" || tb == "" {
			bad(`Keys entry %q: want "db.table"`, name)
		}
		if len(cols) == 0 {
			bad("Keys entry %q names no columns", name)
		}
	}
	switch c.StartMode {
	case StartSnapshot, StartNow:
	case StartFilePos:
		if c.StartFile == "" || c.StartOffset < 4 {
			bad("StartMode is StartFilePos but StartFile/StartOffset are unset: give a binlog file name and an offset ≥ 4 (see SHOW BINARY LOGS)")
		}
	case StartGTID:
		if c.StartGTID == "" {
			bad("StartMode is StartGTID but StartGTID is empty: give a GTID set such as 0-1-100 (MariaDB) or uuid:1-100 (MySQL)")
		}
	default:
		bad("StartMode %d is unknown", c.StartMode)
	}
	if c.HeartbeatPeriod < 0 || (c.HeartbeatPeriod > 0 && c.HeartbeatPeriod < 10*time.Millisecond) {
		bad("HeartbeatPeriod %s is out of range: use 0 for the default or at least 10ms", c.HeartbeatPeriod)
	}
	if c.ZeroDate > ZeroDateError {
		bad("ZeroDate %d is unknown", c.ZeroDate)
	}
	if c.SnapshotWorkers < 0 || c.SnapshotWorkers > 64 {
		bad("SnapshotWorkers %d is out of range 1..64", c.SnapshotWorkers)
	}
	if c.ChunkSize < 0 {
		bad("ChunkSize %d is negative", c.ChunkSize)
	}
	if c.ChunkBytes < 0 {
		bad("ChunkBytes %d is negative", c.ChunkBytes)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
}

// pattern is one parsed selection entry.
type pattern struct{ db, table string }

func parsePattern(p string) (pattern, error) {
	db, tb, ok := strings.Cut(p, ".")
	if !ok {
		tb = "*"
	}
	if db == "" || tb == "" {
		return pattern{}, fmt.Errorf(`table selection %q: want "db.table", "db.*" or "db"`, p)
	}
	if _, err := path.Match(db, ""); err != nil {
		return pattern{}, fmt.Errorf("table selection %q: bad pattern: %v", p, err)
	}
	if _, err := path.Match(tb, ""); err != nil {
		return pattern{}, fmt.Errorf("table selection %q: bad pattern: %v", p, err)
	}
	return pattern{db, tb}, nil
}

func (p pattern) match(db, table string) bool {
	a, _ := path.Match(p.db, db)
	b, _ := path.Match(p.table, table)
	return a && b
}

func (p pattern) literal() bool {
	return !strings.ContainsAny(p.db+p.table, "*?[\\")
}

// selector decides which tables are captured.
type selector struct{ incl, excl []pattern }

func newSelector(c Config) selector {
	var s selector
	for _, p := range c.Tables {
		pp, _ := parsePattern(p)
		s.incl = append(s.incl, pp)
	}
	for _, p := range c.Exclude {
		pp, _ := parsePattern(p)
		s.excl = append(s.excl, pp)
	}
	return s
}

func (s selector) selected(db, table string) bool {
	in := false
	for _, p := range s.incl {
		if p.match(db, table) {
			in = true
			break
		}
	}
	if !in {
		return false
	}
	for _, p := range s.excl {
		if p.match(db, table) {
			return false
		}
	}
	return true
}

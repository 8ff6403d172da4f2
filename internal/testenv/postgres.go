package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresUser is the superuser testenv creates on every PostgreSQL server,
// authenticated by SCRAM-SHA-256 with a random password (Postgres.User and
// Postgres.Password).
const PostgresUser = "sluice"

// PostgresOptions configures StartPostgres. The zero value is the
// configuration of the shared server from Postgres.
type PostgresOptions struct {
	// Port is the TCP port on 127.0.0.1; 0 picks a free one.
	Port int
	// TimeZone is the server's timezone setting, e.g. "Asia/Tokyo". Empty
	// keeps the one initdb chose from the environment.
	TimeZone string
	// Durable keeps fsync and full_page_writes on. By default they are off:
	// a killed server process loses nothing, only a machine crash would.
	Durable bool
	// BinDir holds initdb and postgres; empty finds PostgreSQL 15 in
	// /usr/lib/postgresql/15/bin, then `pg_config --bindir`, then $PATH.
	BinDir string
	// ExtraArgs are appended to the postgres command line and override the
	// defaults, e.g. "-c", "wal_level=replica" for precheck tests or
	// "-c", "logical_decoding_work_mem=64kB" for streaming tests.
	ExtraArgs []string
}

// PostgresConn tells how to connect to a PostgreSQL server. (It cannot be
// named Postgres: that is the function returning the shared server.)
type PostgresConn struct {
	// Host is the server's address, always 127.0.0.1 for testenv servers.
	Host string
	// Port is the TCP port.
	Port int
	// User and Password are the password-authenticated PostgresUser
	// superuser.
	User, Password string
}

// Addr returns "host:port".
func (p *PostgresConn) Addr() string { return net.JoinHostPort(p.Host, strconv.Itoa(p.Port)) }

// ConnString returns a postgres:// URL for User/Password on database db
// ("" means postgres), with sslmode=disable.
func (p *PostgresConn) ConnString(db string) string {
	if db == "" {
		db = "postgres"
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(p.User, p.Password),
		Host:     p.Addr(),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// ReplicationConnString is ConnString with replication=database, for
// logical replication connections (pglogrepl).
func (p *PostgresConn) ReplicationConnString(db string) string {
	return p.ConnString(db) + "&replication=database"
}

// Pool opens a pgx pool on database db and closes it when the test ends.
func (p *PostgresConn) Pool(t testing.TB, db string) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := opContext()
	defer cancel()
	pool, err := pgxpool.New(ctx, p.ConnString(db))
	if err != nil {
		t.Fatalf("testenv: opening a pool on PostgreSQL database %q: %v", db, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		t.Fatalf("testenv: connecting to PostgreSQL database %q at %s: %v", db, p.Addr(), err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Exec runs each statement (several per string are allowed) in database db
// ("" means postgres) and fails the test on the first error.
func (p *PostgresConn) Exec(t testing.TB, db string, stmts ...string) {
	t.Helper()
	if err := p.exec(db, stmts...); err != nil {
		t.Fatal(err)
	}
}

func (p *PostgresConn) exec(db string, stmts ...string) error {
	ctx, cancel := opContext()
	defer cancel()
	conn, err := pgx.Connect(ctx, p.ConnString(db))
	if err != nil {
		return fmt.Errorf("testenv: connecting to PostgreSQL database %q at %s: %w", db, p.Addr(), err)
	}
	defer conn.Close(context.Background())
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return errors.New(sqlErr("PostgreSQL database "+strconv.Quote(db), s, err))
		}
	}
	return nil
}

// CreateDatabase creates a fresh database named after the test and drops
// it when the test ends, with its replication slots and connections.
func (p *PostgresConn) CreateDatabase(t testing.TB) string {
	t.Helper()
	name := uniqueName(t)
	p.Exec(t, "", `CREATE DATABASE "`+name+`"`)
	t.Cleanup(func() {
		if err := p.dropDatabase(name); err != nil {
			t.Logf("testenv: cleanup: %v", err)
		}
	})
	return name
}

// dropDatabase drops database name after ending its replication
// connections and dropping its slots.
func (p *PostgresConn) dropDatabase(name string) error {
	lit := "'" + strings.ReplaceAll(name, "'", "''") + "'"
	var err error
	for range 50 {
		err = p.exec("",
			"SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = "+lit+" AND active_pid IS NOT NULL",
			"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = "+lit+" AND NOT active",
			`DROP DATABASE IF EXISTS "`+strings.ReplaceAll(name, `"`, `""`)+`" WITH (FORCE)`,
		)
		if err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// PostgresServer is a private PostgreSQL server in a temporary directory,
// run as the postgres OS user when the tests run as root. Stop, Kill and
// Start keep its data directory and port, to simulate outages; Close
// removes it.
type PostgresServer struct {
	server
	postgres string
	args     []string
	cred     *syscall.Credential
	conn     *PostgresConn
}

// pgBinDir finds the directory holding initdb and postgres.
func pgBinDir(o PostgresOptions) (string, error) {
	has := func(d string) bool {
		for _, n := range []string{"initdb", "postgres"} {
			if st, err := os.Stat(filepath.Join(d, n)); err != nil || st.IsDir() {
				return false
			}
		}
		return true
	}
	if o.BinDir != "" {
		if !has(o.BinDir) {
			return "", fmt.Errorf("testenv: PostgresOptions.BinDir %s has no initdb and postgres: %w; install with: %s", o.BinDir, ErrMissingBinary, InstallCommand)
		}
		return o.BinDir, nil
	}
	if d := "/usr/lib/postgresql/15/bin"; has(d) {
		return d, nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); has(d) {
			return d, nil
		}
	}
	p, err := findBinary(nil, "postgres")
	if err != nil {
		return "", fmt.Errorf("testenv: PostgreSQL not found in /usr/lib/postgresql/15/bin, `pg_config --bindir` or $PATH: %w; install it with: %s (as root; `make deps` does this)", ErrMissingBinary, InstallCommand)
	}
	if d := filepath.Dir(p); has(d) {
		return d, nil
	}
	return "", fmt.Errorf("testenv: initdb not found next to %s: %w; install with: %s", p, ErrMissingBinary, InstallCommand)
}

// postgresCredential returns the credential to run PostgreSQL with: the
// postgres OS user when running as root (PostgreSQL refuses root), else
// nil (the current user).
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("testenv: PostgreSQL refuses to run as root and there is no postgres OS user to run it as (%v); the Debian package creates it: %s", err, InstallCommand)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("testenv: postgres OS user has a non-numeric uid %q or gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// StartPostgres initialises a cluster with initdb (SCRAM authentication,
// UTF8, C locale) and starts postgres on 127.0.0.1 with wal_level=logical,
// 20 replication slots and 20 WAL senders. Close removes it.
func StartPostgres(ctx context.Context, o PostgresOptions) (*PostgresServer, error) {
	bin, err := pgBinDir(o)
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	dir, err := makeTempDir("pg")
	if err != nil {
		return nil, err
	}
	s := &PostgresServer{server: server{kind: "PostgreSQL", stopSig: syscall.SIGINT, killSig: syscall.SIGQUIT,
		dir: dir, logPath: filepath.Join(dir, "postgres.log")}, postgres: filepath.Join(bin, "postgres"), cred: cred}
	ok := false
	defer func() {
		if !ok {
			s.closeKeep(keepServers())
		}
	}()
	s.conn = &PostgresConn{Host: "127.0.0.1", User: PostgresUser, Password: randomSecret()}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.conn.Password+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("testenv: writing the initdb password file: %w", err)
	}
	if cred != nil {
		for _, p := range []string{dir, pwfile, filepath.Join(dir, "owner.pid")} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return nil, fmt.Errorf("testenv: giving %s to the postgres OS user: %w", p, err)
			}
		}
	}
	dataDir := filepath.Join(dir, "data")
	initLog := filepath.Join(dir, "initdb.log")
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", dataDir, "-U", PostgresUser, "--pwfile="+pwfile,
		"-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(initLog, out, 0o644)
	os.Remove(pwfile)
	if err != nil {
		return nil, fmt.Errorf("testenv: initdb failed (%w); last lines of %s:\n%s", err, initLog, tail(initLog, 30))
	}

	s.args = []string{
		"-D", dataDir,
		"-k", dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "wal_level=logical",
		"-c", "max_replication_slots=20",
		"-c", "max_wal_senders=20",
		"-c", "max_connections=200",
	}
	if !o.Durable {
		s.args = append(s.args, "-c", "fsync=off", "-c", "full_page_writes=off")
	}
	if o.TimeZone != "" {
		s.args = append(s.args, "-c", "timezone="+o.TimeZone)
	}
	s.args = append(s.args, o.ExtraArgs...)

	if err := s.startOnPort(ctx, o.Port, func(p int) { s.conn.Port = p }, s.Start); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// Postgres returns how to connect to the server.
func (s *PostgresServer) Postgres() *PostgresConn {
	c := *s.conn
	return &c
}

// Start starts the stopped server again with the same data directory and
// port and waits until it accepts connections. Starting a running server
// does nothing.
func (s *PostgresServer) Start(ctx context.Context) error {
	cmd := exec.Command(s.postgres, append([]string{"-p", strconv.Itoa(s.port)}, s.args...)...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	connString := s.conn.ConnString("")
	return s.server.start(ctx, cmd, syscall.SIGQUIT, func(ctx context.Context) error {
		c, err := pgx.Connect(ctx, connString)
		if err != nil {
			return err
		}
		return c.Close(ctx)
	})
}

// Stop shuts the server down (fast shutdown, SIGINT: sessions are ended)

var sharedPG lazy[*PostgresServer]

// Postgres returns the package's shared private PostgreSQL 15 server,
// starting it on first use (wal_level=logical, 20 slots, 20 WAL senders).
// It fails t if the server cannot be started, with the apt-get command
// when the binaries are missing.
func Postgres(t testing.TB) *PostgresConn {
	t.Helper()
	s := sharedPG.get(t, "PostgreSQL", func(ctx context.Context) (*PostgresServer, func(bool), error) {
		s, err := StartPostgres(ctx, PostgresOptions{})
		if err != nil {
			return nil, nil, err
		}
		return s, s.closeKeep, nil
	})
	return s.Postgres()
}

// NewPostgres starts a PostgreSQL server owned by the test (for fault
// tests that stop, kill or restart it) and closes it when the test ends.
func NewPostgres(t testing.TB, o PostgresOptions) *PostgresServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := StartPostgres(ctx, o)
	if err != nil {
		t.Fatalf("testenv: starting a PostgreSQL server: %v", err)
	}
	t.Cleanup(func() { s.closeKeep(t.Failed() && keepServers()) })
	return s
}

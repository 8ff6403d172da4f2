package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// MariaDBUser is the account testenv creates on every MariaDB server, with
// a random password (MySQL.User and MySQL.Password). It has ALL PRIVILEGES
// ON *.* (which includes REPLICATION SLAVE, REPLICATION CLIENT/BINLOG
// MONITOR, RELOAD and SELECT) but no GRANT OPTION. Tests of missing
// privileges create their own, narrower accounts as root.
const MariaDBUser = "sluice"

// MariaDBOptions configures StartMariaDB. The zero value is the
// configuration of the shared server from MariaDB.
type MariaDBOptions struct {
	// ServerID is --server-id; 0 means 1.
	ServerID uint32
	// Port is the TCP port on 127.0.0.1; 0 picks a free one.
	Port int
	// TimeZone is --default-time-zone, e.g. "+09:00" (offsets need no time
	// zone tables). Empty leaves the server default, SYSTEM.
	TimeZone string
	// SystemTimeZone is the TZ environment of the server process, e.g.
	// "Asia/Tokyo": @@time_zone stays SYSTEM and @@system_time_zone follows
	// it. Empty inherits the test's TZ.
	SystemTimeZone string
	// Durable keeps InnoDB's default flush at every commit. By default the
	// log is written to the OS at commit and flushed once a second
	// (innodb_flush_log_at_trx_commit=2): a killed server process loses
	// nothing, only a machine crash would.
	Durable bool
	// ExtraArgs are appended to the mariadbd command line and override the
	// defaults, e.g. "--binlog-row-image=MINIMAL" for precheck tests.
	ExtraArgs []string
}

// MySQL tells how to connect to a MySQL-protocol server.
type MySQL struct {
	// Host is the server's address, always 127.0.0.1 for testenv servers.
	Host string
	// Port is the TCP port.
	Port int
	// User and Password are the password-authenticated MariaDBUser account.
	User, Password string
	// RootUser and RootPassword are the administrator account (root, with
	// no password, reachable over TCP from 127.0.0.1 only); DB, Exec and
	// CreateDatabase use it.
	RootUser, RootPassword string
}

// Addr returns "host:port".
func (m *MySQL) Addr() string { return net.JoinHostPort(m.Host, strconv.Itoa(m.Port)) }

func (m *MySQL) dsn(user, pass, db string) string {
	c := mysql.NewConfig()
	c.User = user
	c.Passwd = pass
	c.Net = "tcp"
	c.Addr = m.Addr()
	c.DBName = db
	c.MultiStatements = true
	return c.FormatDSN()
}

// DSN returns a go-sql-driver/mysql DSN for User/Password on database db
// ("" for none), with multiStatements=true and without parseTime.
func (m *MySQL) DSN(db string) string { return m.dsn(m.User, m.Password, db) }

// RootDSN is DSN for the root account.
func (m *MySQL) RootDSN(db string) string {
	user := m.RootUser
	if user == "" {
		user = "root"
	}
	return m.dsn(user, m.RootPassword, db)
}

// DB opens database db ("" for none) as root and closes it when the test
// ends.
func (m *MySQL) DB(t testing.TB, db string) *sql.DB {
	t.Helper()
	d, err := sql.Open("mysql", m.RootDSN(db))
	if err != nil {
		t.Fatalf("testenv: opening MariaDB database %q: %v", db, err)
	}
	ctx, cancel := opContext()
	defer cancel()
	if err := d.PingContext(ctx); err != nil {
		d.Close()
		t.Fatalf("testenv: connecting to MariaDB database %q at %s: %v", db, m.Addr(), err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Exec runs each statement (several per string are allowed) as root in
// database db ("" for none) and fails the test on the first error.
func (m *MySQL) Exec(t testing.TB, db string, stmts ...string) {
	t.Helper()
	if err := m.exec(db, stmts...); err != nil {
		t.Fatal(err)
	}
}

func (m *MySQL) exec(db string, stmts ...string) error {
	d, err := sql.Open("mysql", m.RootDSN(db))
	if err != nil {
		return fmt.Errorf("testenv: opening MariaDB database %q: %w", db, err)
	}
	defer d.Close()
	ctx, cancel := opContext()
	defer cancel()
	for _, s := range stmts {
		if _, err := d.ExecContext(ctx, s); err != nil {
			return errors.New(sqlErr("MariaDB database "+strconv.Quote(db), s, err))
		}
	}
	return nil
}

// CreateDatabase creates a fresh database named after the test and drops
// it when the test ends.
func (m *MySQL) CreateDatabase(t testing.TB) string {
	t.Helper()
	name := uniqueName(t)
	m.Exec(t, "", "CREATE DATABASE `"+name+"`")
	t.Cleanup(func() {
		if err := m.exec("", "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Logf("testenv: cleanup: %v", err)
		}
	})
	return name
}

// MariaDBServer is a private MariaDB server in a temporary directory.
// Stop, Kill and Start keep its data directory and port, to simulate
// outages; Close removes it.
type MariaDBServer struct {
	server
	mysqld string
	args   []string
	env    []string
	conn   *MySQL
}

// StartMariaDB initialises a data directory with mariadb-install-db and
// starts mariadbd on 127.0.0.1 with binlog ROW, FULL row image, GTID strict
// mode and log-slave-updates, then creates the MariaDBUser account. Close
// removes it.
func StartMariaDB(ctx context.Context, o MariaDBOptions) (*MariaDBServer, error) {
	sbin := []string{"/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"}
	mysqld, err := findBinary(sbin, "mariadbd", "mysqld")
	if err != nil {
		return nil, err
	}
	installDB, err := findBinary(sbin, "mariadb-install-db", "mysql_install_db")
	if err != nil {
		return nil, err
	}
	dir, err := makeTempDir("mariadb")
	if err != nil {
		return nil, err
	}
	s := &MariaDBServer{server: server{kind: "MariaDB", stopSig: syscall.SIGTERM, killSig: syscall.SIGKILL,
		dir: dir, logPath: filepath.Join(dir, "error.log")}, mysqld: mysqld}
	ok := false
	defer func() {
		if !ok {
			s.closeKeep(keepServers())
		}
	}()
	dataDir := filepath.Join(dir, "data")
	asRoot := os.Geteuid() == 0

	install := []string{"--no-defaults", "--datadir=" + dataDir, "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve", "--basedir=" + filepath.Dir(filepath.Dir(installDB))}
	if asRoot {
		install = append(install, "--user=root")
	}
	cmd := exec.CommandContext(ctx, installDB, install...)
	installLog := filepath.Join(dir, "install.log")
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.WriteFile(installLog, out, 0o644)
		return nil, fmt.Errorf("testenv: %s failed (%w); last lines of %s:\n%s", filepath.Base(installDB), err, installLog, tail(installLog, 30))
	}

	serverID := o.ServerID
	if serverID == 0 {
		serverID = 1
	}
	s.args = []string{
		"--no-defaults",
		"--datadir=" + dataDir,
		"--bind-address=127.0.0.1",
		"--socket=" + filepath.Join(dir, "mysql.sock"),
		"--pid-file=" + filepath.Join(dir, "mariadbd.pid"),
		"--log-error=" + s.logPath,
		"--log-bin=mysql-bin",
		"--binlog-format=ROW",
		"--binlog-row-image=FULL",
		"--server-id=" + strconv.FormatUint(uint64(serverID), 10),
		"--gtid-strict-mode=1",
		"--log-slave-updates",
		"--skip-name-resolve",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_general_ci",
		"--max-connections=500",
	}
	if asRoot {
		s.args = append(s.args, "--user=root")
	}
	if !o.Durable {
		s.args = append(s.args, "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0")
	}
	if o.TimeZone != "" {
		s.args = append(s.args, "--default-time-zone="+o.TimeZone)
	}
	s.args = append(s.args, o.ExtraArgs...)
	s.env = os.Environ()
	if o.SystemTimeZone != "" {
		s.env = append(s.env, "TZ="+o.SystemTimeZone)
	}
	s.conn = &MySQL{Host: "127.0.0.1", User: MariaDBUser, Password: randomSecret(), RootUser: "root"}

	if err := s.startOnPort(ctx, o.Port, func(p int) { s.conn.Port = p }, s.Start); err != nil {
		return nil, err
	}
	quoted := "'" + MariaDBUser + "'@'%'"
	if err := s.conn.exec("",
		"CREATE USER "+quoted+" IDENTIFIED BY '"+s.conn.Password+"'",
		"GRANT ALL PRIVILEGES ON *.* TO "+quoted,
	); err != nil {
		return nil, fmt.Errorf("testenv: creating the %s account: %w", MariaDBUser, err)
	}
	ok = true
	return s, nil
}

// MySQL returns how to connect to the server.
func (s *MariaDBServer) MySQL() *MySQL {
	c := *s.conn
	return &c
}

// Start starts the stopped server again with the same data directory and
// port and waits until it accepts connections. Starting a running server
// does nothing.
func (s *MariaDBServer) Start(ctx context.Context) error {
	args := append([]string{s.args[0], "--port=" + strconv.Itoa(s.port)}, s.args[1:]...)
	cmd := exec.Command(s.mysqld, args...)
	cmd.Env = s.env
	cmd.Dir = s.dir
	root := s.conn.RootDSN("")
	return s.server.start(ctx, cmd, syscall.SIGKILL, func(ctx context.Context) error {
		d, err := sql.Open("mysql", root)
		if err != nil {
			return err
		}
		defer d.Close()
		return d.PingContext(ctx)
	})
}

package testenv

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// startTimeout bounds the start of a package's shared server (the machine
// may be busy with other test packages).
const startTimeout = 3 * time.Minute

// running is set by Run: shared servers exist only inside Run, so they are
// always removed when the tests end.
var running atomic.Bool

// shared holds the package's lazily started servers and how to remove them.
var shared struct {
	mu      sync.Mutex
	closers []func(keep bool)
}

// lazy is one shared server, started at most once per process.
type lazy[T any] struct {
	once sync.Once
	v    T
	err  error
}

// get starts the server on first use and fails t if it cannot be started.
func (l *lazy[T]) get(t testing.TB, what string, start func(ctx context.Context) (T, func(keep bool), error)) T {
	t.Helper()
	if !running.Load() {
		t.Fatalf("testenv: %s needs TestMain to call os.Exit(testenv.Run(m)), so the package's servers are removed after its tests", what)
	}
	l.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		var closer func(bool)
		l.v, closer, l.err = start(ctx)
		if l.err == nil {
			shared.mu.Lock()
			shared.closers = append(shared.closers, closer)
			shared.mu.Unlock()
		}
	})
	if l.err != nil {
		t.Fatalf("testenv: starting the package's %s: %v", what, l.err)
	}
	return l.v
}

// Run runs the tests of a package and then removes the servers they
// started. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }
//
// With SLUICE_KEEP_SERVERS=1 and a failed run, the servers are stopped but
// their data directories and logs are kept and their paths printed.
func Run(m *testing.M) int {
	running.Store(true)
	code := m.Run()
	running.Store(false)
	keep := code != 0 && keepServers()
	shared.mu.Lock()
	closers := shared.closers
	shared.closers = nil
	shared.mu.Unlock()
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i](keep)
	}
	return code
}

var (
	sharedMaria lazy[*MariaDBServer]
	dbCounter   atomic.Int64
)

// MariaDB returns the package's shared private MariaDB server, starting it
// on first use (binlog ROW, FULL row image, GTID strict mode, server-id 1,
// log-slave-updates). It fails t if the server cannot be started, with the
// apt-get command when the binaries are missing.
func MariaDB(t testing.TB) *MySQL {
	t.Helper()
	s := sharedMaria.get(t, "MariaDB", func(ctx context.Context) (*MariaDBServer, func(bool), error) {
		s, err := StartMariaDB(ctx, MariaDBOptions{})
		if err != nil {
			return nil, nil, err
		}
		return s, s.closeKeep, nil
	})
	return s.MySQL()
}

// NewMariaDB starts a MariaDB server owned by the test (for fault tests
// that stop, kill or restart it) and closes it when the test ends.
func NewMariaDB(t testing.TB, o MariaDBOptions) *MariaDBServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := StartMariaDB(ctx, o)
	if err != nil {
		t.Fatalf("testenv: starting a MariaDB server: %v", err)
	}
	t.Cleanup(func() { s.closeKeep(t.Failed() && keepServers()) })
	return s
}

// uniqueName returns a fresh database name derived from the test's name:
// lower-case letters, digits and underscores, at most 60 characters.
func uniqueName(t testing.TB) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() >= 44 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	b.WriteString("_")
	b.WriteString(strconv.Itoa(os.Getpid() % 100000))
	b.WriteString("_")
	b.WriteString(strconv.FormatInt(dbCounter.Add(1), 10))
	return b.String()
}

// opContext is the context for helper statements; cleanups cannot use the
// test's context, which is cancelled before they run.
func opContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Minute)
}

// sqlErr formats a failed helper statement without any credentials.
func sqlErr(what, stmt string, err error) string {
	if len(stmt) > 300 {
		stmt = stmt[:300] + "..."
	}
	return fmt.Sprintf("testenv: %s: executing %q: %v", what, stmt, err)
}

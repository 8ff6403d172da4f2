package mysql_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/source/mysql"
)

// TestMain runs every test with a non-UTC host time zone (S2: TIMESTAMP
// values must not depend on it).
func TestMain(m *testing.M) {
	os.Setenv("TZ", "Asia/Kolkata")
	if loc, err := time.LoadLocation("Asia/Kolkata"); err == nil {
		time.Local = loc
	}
	os.Exit(testenv.Run(m))
}

// collector is an Emitter that records everything.
type collector struct {
	mu       sync.Mutex
	changes  []sluice.Change
	progress []sluice.Progress
	failAt   int           // if > 0, Emit fails once len(changes) reaches it
	delay    time.Duration // slows Emit down (a slow sink)
}

var errStop = errors.New("collector: stop")

func (c *collector) Emit(ch sluice.Change) error {
	c.mu.Lock()
	d := c.delay
	c.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failAt > 0 && len(c.changes) >= c.failAt {
		return errStop
	}
	c.changes = append(c.changes, ch)
	return nil
}

func (c *collector) Progress(p sluice.Progress) {
	c.mu.Lock()
	c.progress = append(c.progress, p)
	c.mu.Unlock()
}

func (c *collector) snapshot() []sluice.Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sluice.Change(nil), c.changes...)
}

// waitFor polls until cond holds on the changes so far.
func (c *collector) waitFor(t *testing.T, what string, d time.Duration, cond func([]sluice.Change) bool) []sluice.Change {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		cs := c.snapshot()
		if cond(cs) {
			return cs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; have %d changes", what, len(cs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countOp(cs []sluice.Change, op sluice.Op) int {
	n := 0
	for _, c := range cs {
		if c.Op == op {
			n++
		}
	}
	return n
}

// config returns a source config for the server and database.
func config(m *testenv.MySQL, tables ...string) mysql.Config {
	return mysql.Config{
		Addr: m.Addr(), User: m.User, Password: m.Password,
		Tables: tables, ServerID: 2000 + uint32(time.Now().UnixNano()%1000000),
		HeartbeatPeriod: 200 * time.Millisecond, ChunkSize: 100, RetryWindow: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// running is a source running in the background.
type running struct {
	src    *mysql.Source
	out    *collector
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg mysql.Config, from sluice.Position, out *collector) *running {
	t.Helper()
	src, err := mysql.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if out == nil {
		out = &collector{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{src: src, out: out, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- src.Run(ctx, from, out) }()
	t.Cleanup(func() { r.stop(); src.Close() })
	return r
}

func (r *running) stop() error {
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(20 * time.Second):
		return errors.New("source did not stop")
	}
}

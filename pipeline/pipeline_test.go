package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/checkpoint"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/source"
	"github.com/sluicecdc/sluice/transform"
)

// The doubles below implement our own interfaces (source.Source, sink.Sink)
// in memory; the pipeline is tested against real servers by the backends'
// end-to-end tests.

var testTable = func() *sluice.Table {
	t, err := sluice.NewTable(sluice.TableID{Schema: "db", Name: "t"}, []sluice.Column{
		{Name: "txn", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "idx", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "last", Type: sluice.Type{Kind: sluice.KindBool}},
	}, []int{0, 1})
	if err != nil {
		panic(err)
	}
	return t
}()

// memSource emits txns transactions of perTxn inserts each; the position
// after transaction i is "i+1". With live set, it waits for ctx after the
// last transaction instead of returning.
type memSource struct {
	txns, perTxn int
	live         bool
	acked        atomic.Int64
	onAck        func(pos int)
	emitted      atomic.Int64
	closed       atomic.Bool
}

func pos(n int) sluice.Position { return sluice.Position(strconv.Itoa(n)) }

func posN(p sluice.Position) int {
	n, err := strconv.Atoi(string(p))
	if err != nil {
		panic(fmt.Sprintf("bad position %q", p))
	}
	return n
}

func (s *memSource) Tables(context.Context) ([]*sluice.Table, error) {
	return []*sluice.Table{testTable}, nil
}

func (s *memSource) Run(ctx context.Context, from sluice.Position, out source.Emitter) error {
	start := 0
	if from != nil {
		start = posN(from)
	}
	for i := start; i < s.txns; i++ {
		for j := 0; j < s.perTxn; j++ {
			c := sluice.Change{Op: sluice.OpInsert, Table: testTable, Time: time.Now(), Size: 10,
				After: sluice.Row{int64(i), int64(j), j == s.perTxn-1}}
			if j == s.perTxn-1 {
				c.Pos = pos(i + 1)
			}
			if err := out.Emit(c); err != nil {
				return err
			}
			s.emitted.Add(1)
		}
	}
	if s.live {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (s *memSource) Ack(_ context.Context, p sluice.Position) error {
	n := posN(p)
	if s.onAck != nil {
		s.onAck(n)
	}
	s.acked.Store(int64(n))
	return nil
}

func (s *memSource) Close() error { s.closed.Store(true); return nil }

// memSink records what it made "durable".
type memSink struct {
	mu        sync.Mutex
	changes   []sluice.Change
	batches   int
	positions []sluice.Position
	delay     time.Duration
	fail      func() error // called before each write; non-nil error fails it
	durable   atomic.Int64 // highest position made durable
	onWrite   func(b *sink.Batch)
	closed    atomic.Bool
	t         *testing.T
}

func (s *memSink) Write(ctx context.Context, b *sink.Batch) error {
	if s.fail != nil {
		if err := s.fail(); err != nil {
			return err
		}
	}
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.onWrite != nil {
		s.onWrite(b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changes = append(s.changes, b.Changes...)
	s.batches++
	if b.Position != nil {
		// Checkpoints only at transaction ends: the batch's last change must
		// be the last of its transaction, and the position the one after it.
		if n := len(b.Changes); n > 0 {
			last := b.Changes[n-1].After
			if !last[2].(bool) || posN(b.Position) < int(last[0].(int64))+1 {
				s.t.Errorf("batch position %s does not end at a transaction end (last change %v)", b.Position, last)
			}
		}
		s.positions = append(s.positions, b.Position)
		s.durable.Store(int64(posN(b.Position)))
	}
	return nil
}

func (s *memSink) Close() error { s.closed.Store(true); return nil }

func (s *memSink) got() []sluice.Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sluice.Change(nil), s.changes...)
}

// checkAll asserts every (txn, idx) in [0,txns)×[0,perTxn) was delivered,
// and, if exact, exactly once and in order.
func checkAll(t *testing.T, got []sluice.Change, txns, perTxn int, exact bool) {
	t.Helper()
	seen := make(map[[2]int64]int)
	for _, c := range got {
		seen[[2]int64{c.After[0].(int64), c.After[1].(int64)}]++
	}
	for i := 0; i < txns; i++ {
		for j := 0; j < perTxn; j++ {
			n := seen[[2]int64{int64(i), int64(j)}]
			if n == 0 {
				t.Fatalf("change (%d,%d) lost", i, j)
			}
			if exact && n != 1 {
				t.Fatalf("change (%d,%d) delivered %d times", i, j, n)
			}
		}
	}
	if exact {
		if len(got) != txns*perTxn {
			t.Fatalf("got %d changes, want %d", len(got), txns*perTxn)
		}
		for k, c := range got {
			if c.After[0].(int64) != int64(k/perTxn) || c.After[1].(int64) != int64(k%perTxn) {
				t.Fatalf("change %d is (%v,%v): order not preserved", k, c.After[0], c.After[1])
			}
		}
	}
}

func newTest(t *testing.T, cfg Config) *Pipeline {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	if !testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runBG(p *Pipeline, ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return done
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// P1, P2: order is preserved, every change arrives once, checkpoints are
// only at transaction ends, and the final checkpoint is the last position.
func TestOrderAndCheckpoints(t *testing.T) {
	src := &memSource{txns: 2000, perTxn: 7}
	snk := &memSink{t: t}
	store := checkpoint.NewMemory()
	p := newTest(t, Config{Source: src, Sinks: []sink.Sink{snk}, Checkpoints: store,
		Batch: BatchConfig{MaxChanges: 100}})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkAll(t, snk.got(), 2000, 7, true)
	saved, _ := store.Load(context.Background(), "test")
	if posN(saved) != 2000 || src.acked.Load() != 2000 {
		t.Fatalf("saved %s, acked %d; want 2000 both", saved, src.acked.Load())
	}
	if snk.batches < 140 {
		t.Fatalf("%d batches: batching bound of 100 changes not applied", snk.batches)
	}
	if p.State() != StateStopped || !src.closed.Load() || !snk.closed.Load() {
		t.Fatalf("state %s, source closed %v, sink closed %v", p.State(), src.closed.Load(), snk.closed.Load())
	}
	st := p.Stats()
	if st.Changes != 14000 || st.Rows != 14000 || st.Txns != 2000 || st.Bytes != 140000 {
		t.Fatalf("stats %+v", st)
	}
}

// A transaction larger than a batch is split; only its end is a checkpoint.
func TestLargeTransactionSplit(t *testing.T) {
	src := &memSource{txns: 5, perTxn: 1000}
	snk := &memSink{t: t}
	p := newTest(t, Config{Source: src, Sinks: []sink.Sink{snk}, Batch: BatchConfig{MaxChanges: 64}, BufferChanges: 256})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkAll(t, snk.got(), 5, 1000, true)
	if len(snk.positions) != 5 {
		t.Fatalf("positions %q: want exactly the 5 transaction ends", snk.positions)
	}
	if st := p.Stats(); st.MaxBuffered > 256 {
		t.Fatalf("buffered %d changes, limit 256", st.MaxBuffered)
	}
}

// N3: a slow sink stops the source from reading more than the buffer.
func TestSlowSinkBoundsBuffer(t *testing.T) {
	src := &memSource{txns: 300, perTxn: 3, live: true}
	snk := &memSink{t: t, delay: 2 * time.Millisecond}
	const limit = 50
	p := newTest(t, Config{Source: src, Sinks: []sink.Sink{snk}, Batch: BatchConfig{MaxChanges: 10}, BufferChanges: limit})
	ctx, cancel := context.WithCancel(context.Background())
	done := runBG(p, ctx)
	deadline := time.Now().Add(20 * time.Second)
	for len(snk.got()) < 900 && time.Now().Before(deadline) {
		st := p.Stats()
		if st.Buffered > limit {
			t.Fatalf("buffered %d > limit %d", st.Buffered, limit)
		}
		// What the source emitted minus what the sink has is what the
		// pipeline holds; it must stay within the limit too.
		if held := src.emitted.Load() - int64(len(snk.got())); held > limit+1 {
			t.Fatalf("source ran %d changes ahead of the sink, limit %d", held, limit)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	checkAll(t, snk.got(), 300, 3, true)
	if st := p.Stats(); st.MaxBuffered > limit || st.MaxBuffered < 10 {
		t.Fatalf("max buffered %d: want ≤ %d and the buffer actually used", st.MaxBuffered, limit)
	}
}

// P1: with two sinks, the source is acknowledged only up to the slower one.
func TestFanOutAcksMinimum(t *testing.T) {
	fast := &memSink{t: t}
	slow := &memSink{t: t, delay: 3 * time.Millisecond}
	var violations atomic.Int64
	src := &memSource{txns: 400, perTxn: 2}
	src.onAck = func(n int) {
		if int64(n) > fast.durable.Load() || int64(n) > slow.durable.Load() {
			violations.Add(1)
		}
	}
	p := newTest(t, Config{Source: src, Sinks: []sink.Sink{fast, slow}, Batch: BatchConfig{MaxChanges: 20},
		CheckpointInterval: time.Millisecond})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if violations.Load() > 0 {
		t.Fatalf("%d acks ahead of a sink", violations.Load())
	}
	checkAll(t, fast.got(), 400, 2, true)
	checkAll(t, slow.got(), 400, 2, true)
	if src.acked.Load() != 400 {
		t.Fatalf("acked %d, want 400", src.acked.Load())
	}
}

// P6: a sink that fails for 2 s and recovers loses nothing.
func TestSinkRecoversWithinWindow(t *testing.T) {
	var failUntil atomic.Int64
	snk := &memSink{t: t}
	var failures atomic.Int64
	snk.fail = func() error {
		if time.Now().UnixNano() < failUntil.Load() {
			failures.Add(1)
			return errors.New("connection refused")
		}
		return nil
	}
	src := &memSource{txns: 1000, perTxn: 2, live: true}
	p := newTest(t, Config{Source: src, Sinks: []sink.Sink{snk}, Batch: BatchConfig{MaxChanges: 50}, RetryWindow: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	failUntil.Store(time.Now().Add(2 * time.Second).UnixNano())
	done := runBG(p, ctx)
	waitFor(t, "a failing write", 5*time.Second, func() bool { return failures.Load() > 0 })
	if st := p.Stats(); !st.Sinks[0].Failing || st.Sinks[0].LastError == "" {
		t.Errorf("stats during failure: %+v", st.Sinks[0])
	}
	waitFor(t, "all changes", 20*time.Second, func() bool { return len(snk.got()) >= 2000 })
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	checkAll(t, snk.got(), 1000, 2, true)
}

// P6: a sink failing past the window makes Run fail with a clear error.
func TestSinkFailsPastWindow(t *testing.T) {
	snk := &memSink{t: t, fail: func() error { return errors.New("connection refused") }}
	src := &memSource{txns: 10, perTxn: 1, live: true}
	p := newTest(t, Config{Source: src, Sinks: []sink.Sink{snk}, RetryWindow: 300 * time.Millisecond,
		Batch: BatchConfig{MaxDelay: 10 * time.Millisecond}})
	start := time.Now()
	err := p.Run(context.Background())
	if err == nil {
		t.Fatal("Run returned nil; want the sink failure")
	}
	msg := err.Error()
	for _, want := range []string{"sink 0", "connection refused", "failing since", "attempts"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %s to fail with a 300ms window", time.Since(start))
	}
	if p.State() != StateFailed {
		t.Errorf("state %s, want failed", p.State())
	}
}

// A permanent sink error fails at once, without waiting for the window.
func TestPermanentSinkErrorFailsAtOnce(t *testing.T) {
	snk := &memSink{t: t, fail: func() error { return sluice.Permanent(errors.New("duplicate key (id)=(1)")) }}
	p := newTest(t, Config{Source: &memSource{txns: 3, perTxn: 1, live: true}, Sinks: []sink.Sink{snk}, RetryWindow: time.Hour,
		Batch: BatchConfig{MaxDelay: 5 * time.Millisecond}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Run(ctx); err == nil || !strings.Contains(err.Error(), "duplicate key") || ctx.Err() != nil {
		t.Fatalf("err = %v; want the permanent error before the timeout", err)
	}
}

// P2: cancel mid-run, then a new pipeline from the stored checkpoint
// delivers everything: nothing lost, replays allowed.
func TestResumeAfterCancel(t *testing.T) {
	store := checkpoint.NewMemory()
	var all []sluice.Change
	for round := 0; round < 4; round++ {
		src := &memSource{txns: 3000, perTxn: 3}
		snk := &memSink{t: t, delay: 200 * time.Microsecond}
		p := newTest(t, Config{Name: "resume", Source: src, Sinks: []sink.Sink{snk}, Checkpoints: store,
			Batch: BatchConfig{MaxChanges: 40}, CheckpointInterval: 5 * time.Millisecond, DrainTimeout: time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		done := runBG(p, ctx)
		if round < 3 {
			time.Sleep(time.Duration(20+round*15) * time.Millisecond)
			cancel()
		}
		err := <-done
		cancel()
		if round < 3 && err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: %v", round, err)
		}
		if round == 3 && err != nil {
			t.Fatalf("final round: %v", err)
		}
		all = append(all, snk.got()...)
	}
	checkAll(t, all, 3000, 3, false)
}

// P3: Pause stops delivery; Resume continues.
func TestPauseResume(t *testing.T) {
	src := &memSource{txns: 100000, perTxn: 1, live: true}
	snk := &memSink{t: t, delay: 100 * time.Microsecond}
	p := newTest(t, Config{Source: src, Sinks: []sink.Sink{snk}, Batch: BatchConfig{MaxChanges: 10}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runBG(p, ctx)
	waitFor(t, "delivery", 5*time.Second, func() bool { return len(snk.got()) > 100 })
	p.Pause()
	if p.State() != StatePaused {
		t.Fatalf("state %s, want paused", p.State())
	}
	time.Sleep(50 * time.Millisecond) // let a write in progress finish
	n := len(snk.got())
	time.Sleep(200 * time.Millisecond)
	if m := len(snk.got()); m != n {
		t.Fatalf("delivered %d changes while paused", m-n)
	}
	p.Resume()
	waitFor(t, "delivery after resume", 5*time.Second, func() bool { return len(snk.got()) > n+100 })
	if s := p.State(); s != StateSynchronizing {
		t.Fatalf("state %s, want synchronizing", s)
	}
	p.Stop()
	if err := <-done; err != nil {
		t.Fatalf("Run after Stop = %v, want nil", err)
	}
	if p.State() != StateStopped {
		t.Fatalf("state %s, want stopped", p.State())
	}
}

// Transforms run per change; a transaction they drop entirely still
// advances the checkpoint; an UPDATE-like expansion keeps order.
func TestTransformsAndDroppedTransactions(t *testing.T) {
	dropOdd := transform.Func(func(tb *sluice.Table) (transform.Mapper, error) { return oddDropper{tb}, nil })
	src := &memSource{txns: 100, perTxn: 2}
	snk := &memSink{t: t}
	store := checkpoint.NewMemory()
	p := newTest(t, Config{Source: src, Sinks: []sink.Sink{snk}, Transforms: []transform.Transform{dropOdd}, Checkpoints: store})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range snk.got() {
		if c.After[0].(int64)%2 == 1 {
			t.Fatalf("odd transaction %v not dropped", c.After)
		}
	}
	if len(snk.got()) != 100 {
		t.Fatalf("got %d changes, want 100", len(snk.got()))
	}
	if saved, _ := store.Load(context.Background(), "test"); posN(saved) != 100 {
		t.Fatalf("checkpoint %s, want 100 (the last transaction was dropped but completed)", saved)
	}
}

type oddDropper struct{ t *sluice.Table }

func (o oddDropper) Table() *sluice.Table { return o.t }
func (o oddDropper) Map(c sluice.Change, out []sluice.Change) ([]sluice.Change, error) {
	if c.After[0].(int64)%2 == 1 {
		return out, nil
	}
	return append(out, c), nil
}

// A transform that does not fit a table fails the precheck, before anything
// is written.
func TestPrecheckReportsBadTransform(t *testing.T) {
	bad := transform.Func(func(tb *sluice.Table) (transform.Mapper, error) {
		return nil, errors.New(`unknown column "amount"`)
	})
	snk := &memSink{t: t}
	p := newTest(t, Config{Source: &memSource{txns: 5, perTxn: 1}, Sinks: []sink.Sink{snk}, Transforms: []transform.Transform{bad}})
	err := p.Run(context.Background())
	var pe *sluice.PrecheckError
	if !errors.As(err, &pe) || !errors.Is(err, sluice.ErrPrecheck) || !strings.Contains(err.Error(), "amount") {
		t.Fatalf("err = %v, want a precheck error naming the column", err)
	}
	if len(snk.got()) != 0 {
		t.Fatal("changes written despite a failed precheck")
	}
}

func TestConfigValidate(t *testing.T) {
	err := (&Config{BufferChanges: 5, Batch: BatchConfig{MaxChanges: 10}}).Validate()
	if err == nil {
		t.Fatal("empty config validated")
	}
	for _, want := range []string{"missing Name", "missing Source", "no Sinks", "buffer of 5 changes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	c := Config{Name: "x", Source: &memSource{}, Sinks: []sink.Sink{&memSink{}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Batch.MaxChanges != DefaultBatchMaxChanges || c.RetryWindow != DefaultRetryWindow || c.Checkpoints == nil {
		t.Fatalf("defaults not applied: %+v", c)
	}
}

// P5: snapshot progress drives the initial-sync state and the ETA.
func TestSnapshotProgressState(t *testing.T) {
	gate := make(chan struct{})
	src := &progressSource{gate: gate}
	p := newTest(t, Config{Source: src, Sinks: []sink.Sink{&memSink{t: t}}})
	done := runBG(p, context.Background())
	waitFor(t, "initial sync state", 5*time.Second, func() bool { return p.State() == StateInitialSync })
	time.Sleep(20 * time.Millisecond)
	st := p.Stats()
	if len(st.Snapshot) != 1 || st.Snapshot[0].Percent != 25 || st.Snapshot[0].ETA <= 0 {
		t.Fatalf("snapshot stats %+v", st.Snapshot)
	}
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); !st.Snapshot[0].Done || st.Snapshot[0].Percent != 100 {
		t.Fatalf("snapshot stats after done %+v", st.Snapshot)
	}
}

type progressSource struct {
	memSource
	gate chan struct{}
}

func (s *progressSource) Run(ctx context.Context, _ sluice.Position, out source.Emitter) error {
	id := testTable.ID
	out.Progress(sluice.Progress{Table: id, Rows: 250, Total: 1000})
	<-s.gate
	out.Progress(sluice.Progress{Table: id, Rows: 1000, Total: 1000, Done: true})
	return nil
}

// slowPrecheckSource's precheck fails once its context is cancelled, as a
// real one does when its connection attempt is interrupted.
type slowPrecheckSource struct{ memSource }

func (s *slowPrecheckSource) Precheck(ctx context.Context) []sluice.Check {
	<-ctx.Done()
	return []sluice.Check{{Item: "connect", Status: sluice.StatusFail, Cause: ctx.Err().Error()}}
}

// P3: cancelling during the precheck is a stop, not a precheck failure.
func TestCancelDuringPrecheck(t *testing.T) {
	p := newTest(t, Config{Source: &slowPrecheckSource{}, Sinks: []sink.Sink{&memSink{t: t}}})
	ctx, cancel := context.WithCancel(context.Background())
	done := runBG(p, ctx)
	waitFor(t, "prechecking", 5*time.Second, func() bool { return p.State() == StatePrechecking })
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || errors.Is(err, sluice.ErrPrecheck) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if p.State() != StateStopped {
		t.Fatalf("state %s, want stopped", p.State())
	}
}

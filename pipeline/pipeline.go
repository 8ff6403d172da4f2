package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/retry"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/source"
	"github.com/sluicecdc/sluice/transform"
)

// ErrStopped is returned by the pipeline's Emit to a source once the
// pipeline is stopping; sources return it (wrapped) from Run.
var ErrStopped = errors.New("pipeline stopped")

// ErrAlreadyRun is returned by Run when the pipeline has run before; build a
// new Pipeline (with new Source and Sinks) to run again.
var ErrAlreadyRun = errors.New("pipeline: Run may be called only once")

// State is the observable lifecycle state of a pipeline.
type State int32

// The states, in the order a pipeline normally passes through them.
const (
	StateNew           State = iota // built, Run not called yet
	StatePrechecking                // running the precheck
	StateInitialSync                // the source is snapshotting tables
	StateSynchronizing              // streaming changes
	StatePaused                     // Pause was called; nothing is delivered
	StateStopped                    // Run returned after a stop
	StateFailed                     // Run returned an error
)

var stateNames = [...]string{"new", "prechecking", "initial sync", "synchronizing", "paused", "stopped", "failed"}

// String returns the state's name, such as "initial sync".
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Pipeline moves changes from a Source through Transforms to Sinks.
// Build it with New; run it with Run.
type Pipeline struct {
	cfg  Config
	log  *slog.Logger
	src  source.Source
	run  atomic.Bool
	stop chan struct{} // closed by Stop
	halt chan struct{} // closed when the pipeline starts stopping, for any reason
	once sync.Once

	state atomic.Int32 // base State; Paused and InitialSync are derived in State()

	// mu guards everything below, the transform chains and the batch being built.
	mu          sync.Mutex
	paused      bool
	resumed     chan struct{} // closed on Resume; replaced on Pause
	released    chan struct{} // closed and replaced whenever buffered changes are released
	stopping    bool
	inflight    int // changes in sealed batches not yet durable in every sink
	cur         *batch
	seq         uint64
	free        []*batch
	transform   transform.Transform // the configured transforms, chained
	chains      map[*sluice.Table]transform.Mapper
	lastTable   *sluice.Table
	lastChain   transform.Mapper
	scratch     []sluice.Change
	maxBuffered int // most changes ever held (Stats)
	queues      []*queue
	durable     sluice.Position // newest position durable in every sink
	durableVer  uint64          // counts updates of durable
	savedVer    uint64          // durableVer when last saved to the store

	stats stats
}

// New validates cfg and builds a pipeline. Nothing is connected or written
// until Run (or Precheck).
func New(cfg Config) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Pipeline{
		cfg:       cfg,
		log:       cfg.Logger.With("pipeline", cfg.Name),
		src:       cfg.Source,
		stop:      make(chan struct{}),
		halt:      make(chan struct{}),
		resumed:   make(chan struct{}),
		released:  make(chan struct{}),
		transform: transform.Chain(cfg.Transforms...),
		chains:    make(map[*sluice.Table]transform.Mapper),
	}
	close(p.resumed)
	p.cur = p.newBatch()
	p.stats.init(len(cfg.Sinks))
	return p, nil
}

// State returns the current lifecycle state.
func (p *Pipeline) State() State {
	s := State(p.state.Load())
	if s == StateSynchronizing || s == StateInitialSync {
		p.mu.Lock()
		paused := p.paused
		p.mu.Unlock()
		if paused {
			return StatePaused
		}
		if p.stats.snapshotting() {
			return StateInitialSync
		}
		return StateSynchronizing
	}
	return s
}

// Stop asks a running pipeline to stop gracefully: the source stops, the
// changes already read are delivered (within DrainTimeout), the checkpoint is
// saved, and Run returns nil. Stop does not wait; it is safe to call more
// than once and before Run.
func (p *Pipeline) Stop() { p.once.Do(func() { close(p.stop) }) }

// Pause stops delivery: the source blocks in Emit and sinks receive nothing
// until Resume. Buffered changes stay buffered.
func (p *Pipeline) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused {
		p.paused = true
		p.resumed = make(chan struct{})
		p.log.Info("paused")
	}
}

// Resume continues delivery after Pause.
func (p *Pipeline) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused {
		p.paused = false
		close(p.resumed)
		p.log.Info("resumed")
	}
}

// waitResumed blocks while the pipeline is paused.
func (p *Pipeline) waitResumed(ctx context.Context) error {
	p.mu.Lock()
	ch := p.resumed
	p.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run prechecks, then runs the pipeline until it is stopped (Stop: returns
// nil; ctx cancelled: returns ctx's error) or fails. Either way it saves the
// newest durable position and closes the source and the sinks. A failure
// error names the failing component and, for retried failures, since when it
// failed.
func (p *Pipeline) Run(ctx context.Context) (err error) {
	if !p.run.CompareAndSwap(false, true) {
		return ErrAlreadyRun
	}
	defer func() {
		cerr := p.closeAll()
		if err == nil && cerr != nil {
			err = cerr
		}
		if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			err = context.Cause(ctx) // stopped by the caller, in whatever phase
		}
		if err != nil && ctx.Err() == nil {
			p.state.Store(int32(StateFailed))
			p.log.Error("pipeline failed", "err", err)
		} else {
			p.state.Store(int32(StateStopped))
			p.log.Info("pipeline stopped")
		}
	}()

	p.state.Store(int32(StatePrechecking))
	if !p.cfg.SkipPrecheck {
		rep := p.Precheck(ctx)
		if ctx.Err() != nil {
			return context.Cause(ctx) // the items failed because we were cancelled
		}
		if !rep.OK() {
			return &sluice.PrecheckError{Report: rep}
		}
	}
	from, err := p.loadPosition(ctx)
	if err != nil {
		return err
	}
	if from == nil {
		if err := p.syncSchema(ctx); err != nil {
			return err
		}
	}
	p.state.Store(int32(StateSynchronizing))
	p.log.Info("pipeline started", "resume", from != nil, "sinks", len(p.cfg.Sinks))
	return p.loop(ctx, from)
}

// loop runs the source, the sink workers and the committer.
func (p *Pipeline) loop(ctx context.Context, from sluice.Position) error {
	sinkCtx, cancelSinks := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSinks()
	srcCtx, cancelSrc := context.WithCancel(ctx)
	defer cancelSrc()

	p.queues = make([]*queue, len(p.cfg.Sinks))
	for i := range p.queues {
		p.queues[i] = newQueue()
	}
	sinkErr := make(chan error, len(p.cfg.Sinks))
	var sinks sync.WaitGroup
	for i, s := range p.cfg.Sinks {
		sinks.Add(1)
		go func() {
			defer sinks.Done()
			if err := p.runSink(sinkCtx, i, s, p.queues[i]); err != nil {
				sinkErr <- err
			}
		}()
	}
	commitCtx, cancelCommit := context.WithCancel(sinkCtx)
	commitDone := make(chan struct{})
	go func() { defer close(commitDone); p.commitLoop(commitCtx) }()
	go p.flushLoop(srcCtx)
	go p.stats.sampleLoop(srcCtx)

	srcDone := make(chan error, 1)
	go func() { srcDone <- p.src.Run(srcCtx, from, emitter{p}) }()

	var failure error
	srcFinished := false
	select {
	case err := <-srcDone:
		srcFinished = true
		if err != nil && !errors.Is(err, ErrStopped) && ctx.Err() == nil {
			failure = fmt.Errorf("pipeline %q: source: %w", p.cfg.Name, err)
		}
	case err := <-sinkErr:
		failure = err
	case <-ctx.Done():
	case <-p.stop:
	}

	// Stop reading.
	p.mu.Lock()
	p.stopping = true
	p.wake()
	close(p.halt)
	p.mu.Unlock()
	cancelSrc()
	if !srcFinished {
		if err := <-srcDone; err != nil && failure == nil && !errors.Is(err, ErrStopped) && !errors.Is(err, context.Canceled) {
			p.log.Warn("source returned an error while stopping", "err", err)
		}
	}

	// Deliver what was read, up to the last transaction end, unless a sink
	// failed (then nothing more can become durable in every sink).
	sinkFailed := errors.Is(failure, errSinkFailed)
	p.mu.Lock()
	if !sinkFailed {
		p.sealComplete()
	}
	for _, q := range p.queues {
		q.close()
	}
	p.mu.Unlock()
	if sinkFailed {
		cancelSinks()
	}
	drained := make(chan struct{})
	go func() { sinks.Wait(); close(drained) }()
	drainLimit := time.After(p.cfg.DrainTimeout)
	if srcFinished && failure == nil {
		drainLimit = nil // the source ended by itself: deliver everything it read
	}
	select {
	case <-drained:
	case err := <-sinkErr:
		failure = err
		cancelSinks()
		<-drained
	case <-drainLimit:
		p.log.Warn("drain timed out; undelivered changes will be read again on restart", "timeout", p.cfg.DrainTimeout)
		cancelSinks()
		<-drained
	}
	if failure == nil {
		select {
		case failure = <-sinkErr:
		default:
		}
	}
	cancelCommit()
	<-commitDone
	if err := p.saveCheckpoint(context.WithoutCancel(ctx)); err != nil && failure == nil {
		failure = err
	}
	return failure
}

// errSinkFailed marks errors from sink workers.
var errSinkFailed = errors.New("sink failed")

// runSink writes the batches of one sink's queue in order.
func (p *Pipeline) runSink(ctx context.Context, i int, s sink.Sink, q *queue) error {
	pol := retry.Policy{Window: p.cfg.RetryWindow}
	for {
		b, ok := q.pop(ctx)
		if !ok {
			return nil
		}
		if err := p.waitResumed(ctx); err != nil {
			return nil
		}
		err := pol.Do(ctx, func(ctx context.Context) error { return s.Write(ctx, &b.Batch) },
			func(attempt int, since time.Time, err error) {
				p.stats.sinkFailing(i, since, err)
				p.log.Warn("sink write failed; retrying", "sink", i, "attempt", attempt, "since", since, "err", err)
			})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("pipeline %q: sink %d (%T): writing a batch of %d changes: %w: %w",
				p.cfg.Name, i, s, len(b.Changes), errSinkFailed, err)
		}
		p.stats.sinkOK(i, len(b.Changes))
		p.release(b)
	}
}

// commitLoop saves the durable position at most every CheckpointInterval.
func (p *Pipeline) commitLoop(ctx context.Context) {
	t := time.NewTicker(p.cfg.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.saveCheckpoint(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn("saving checkpoint failed; will retry", "err", err)
			}
		}
	}
}

// saveCheckpoint saves the newest durable position if it is new, then
// acknowledges it to the source: sink durable → checkpoint saved → Ack.
func (p *Pipeline) saveCheckpoint(ctx context.Context) error {
	p.mu.Lock()
	pos, ver := p.durable, p.durableVer
	same := pos == nil || ver == p.savedVer
	p.mu.Unlock()
	if same {
		return nil
	}
	if err := p.cfg.Checkpoints.Save(ctx, p.cfg.Name, pos); err != nil {
		return fmt.Errorf("pipeline %q: saving checkpoint: %w", p.cfg.Name, err)
	}
	p.mu.Lock()
	p.savedVer = ver
	p.mu.Unlock()
	if err := p.src.Ack(ctx, pos); err != nil {
		p.log.Warn("source ack failed", "err", err)
	}
	return nil
}

// flushLoop hands over batches older than Batch.MaxDelay.
func (p *Pipeline) flushLoop(ctx context.Context) {
	tick := max(p.cfg.Batch.MaxDelay/4, time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p.mu.Lock()
			if !p.paused && !p.stopping && !p.cur.started.IsZero() && now.Sub(p.cur.started) >= p.cfg.Batch.MaxDelay {
				p.sealComplete()
			}
			p.mu.Unlock()
		}
	}
}

// loadPosition returns where to resume: a lone sink that keeps its
// checkpoint with its data knows best (exactly-once); otherwise the store.
func (p *Pipeline) loadPosition(ctx context.Context) (sluice.Position, error) {
	if len(p.cfg.Sinks) == 1 {
		if c, ok := p.cfg.Sinks[0].(sink.Checkpointer); ok {
			pos, err := c.LoadCheckpoint(ctx, p.cfg.Name)
			if err != nil {
				return nil, fmt.Errorf("pipeline %q: loading checkpoint from sink: %w", p.cfg.Name, err)
			}
			if pos != nil {
				return pos, nil
			}
		}
	}
	pos, err := p.cfg.Checkpoints.Load(ctx, p.cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("pipeline %q: loading checkpoint: %w", p.cfg.Name, err)
	}
	return pos, nil
}

// syncSchema gives schema-syncing sinks the mapped tables before a fresh start.
func (p *Pipeline) syncSchema(ctx context.Context) error {
	var syncers []sink.SchemaSyncer
	for _, s := range p.cfg.Sinks {
		if ss, ok := s.(sink.SchemaSyncer); ok {
			syncers = append(syncers, ss)
		}
	}
	if len(syncers) == 0 {
		return nil
	}
	tables, err := p.mappedTables(ctx)
	if err != nil {
		return err
	}
	for _, ss := range syncers {
		if err := ss.SyncSchema(ctx, tables); err != nil {
			return fmt.Errorf("pipeline %q: schema sync (%T): %w", p.cfg.Name, ss, err)
		}
	}
	return nil
}

// mappedTables resolves the source's tables and maps them through the
// transforms.
func (p *Pipeline) mappedTables(ctx context.Context) ([]*sluice.Table, error) {
	tables, err := p.src.Tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("pipeline %q: resolving source tables: %w", p.cfg.Name, err)
	}
	return p.mapTables(tables, nil)
}

// closeAll closes the source and the sinks.
func (p *Pipeline) closeAll() error {
	var errs []error
	if err := p.src.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing source: %w", err))
	}
	for i, s := range p.cfg.Sinks {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing sink %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

package pipeline

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/transform"
)

// batch is a sink.Batch plus the pipeline's bookkeeping.
//
// Invariant once sealed: either Position is set and the batch ends exactly
// at that transaction end, or Position is nil and the batch is a piece of a
// single transaction too large for one batch.
type batch struct {
	sink.Batch
	seq      uint64
	refs     atomic.Int32 // sinks that have not yet made it durable
	started  time.Time    // when its first change arrived (zero: empty)
	boundary int          // len(Changes) at the last transaction end
	// Tallies of the input changes up to boundary (b*) and in total.
	rows, bRows   int
	bytes, bBytes int
	txns          int
	last, bLast   time.Time // commit time of the newest input change
}

// newBatch returns an empty batch, reusing a released one when possible.
// Called with p.mu held.
func (p *Pipeline) newBatch() *batch {
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	return &batch{Batch: sink.Batch{Changes: make([]sluice.Change, 0, min(p.cfg.Batch.MaxChanges, 1024)), Checkpoint: p.cfg.Name}}
}

// emitter is the source.Emitter the pipeline hands to its source.
type emitter struct{ p *Pipeline }

// Emit transforms c and appends the result to the batch being built; it
// blocks while the pipeline is paused or its buffer is full.
func (e emitter) Emit(c sluice.Change) error {
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.paused && !p.stopping {
		ch := p.resumed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-p.halt:
		}
		p.mu.Lock()
	}
	if p.stopping {
		return ErrStopped
	}

	b := p.cur
	start := len(b.Changes)
	if c.Table != nil && c.Op != sluice.OpHeartbeat {
		ch, err := p.chainFor(c.Table)
		if err != nil {
			return sluice.Permanent(err)
		}
		var out []sluice.Change
		if out, err = ch.Map(c, b.Changes); err != nil {
			b.Changes = b.Changes[:start]
			return sluice.Permanent(fmt.Errorf("pipeline %q: transforming a %s change of %s: %w", p.cfg.Name, c.Op, c.Table.ID, err))
		}
		if c.Op == sluice.OpSchema {
			if err := p.mapOldTables(out[start:]); err != nil {
				b.Changes = out[:start]
				return sluice.Permanent(err)
			}
		}
		b.Changes = out
	}
	n := len(b.Changes) - start
	if n > 0 && p.inflight+len(b.Changes) > p.cfg.BufferChanges {
		// Keep the buffer bound: take the new changes out again while waiting.
		added := p.stash(b, start)
		if err := p.reserve(n); err != nil {
			return err
		}
		b = p.cur
		b.Changes = append(b.Changes, added...)
	}
	for i := len(b.Changes) - n; i < len(b.Changes); i++ {
		if b.Changes[i].Op.IsRow() {
			b.rows++
		}
	}
	if held := p.inflight + len(b.Changes); held > p.maxBuffered {
		p.maxBuffered = held
	}
	if b.started.IsZero() && (n > 0 || c.Pos != nil) {
		b.started = time.Now()
	}
	b.bytes += c.Size
	if !c.Time.IsZero() {
		b.last = c.Time
	}
	if c.Op == sluice.OpHeartbeat && !c.Time.IsZero() && p.inflight == 0 && len(b.Changes) == 0 {
		p.stats.caughtUp(c.Time) // nothing pending: the lag is the heartbeat's
	}
	if c.Pos != nil {
		b.Position = c.Pos
		b.txns++
		b.boundary = len(b.Changes)
		b.bRows, b.bBytes, b.bLast = b.rows, b.bytes, b.last
	}
	if len(b.Changes) >= p.cfg.Batch.MaxChanges || b.bytes >= p.cfg.Batch.MaxBytes {
		if b.boundary == len(b.Changes) || b.boundary == 0 {
			p.seal() // ends at a transaction end, or is a piece of one large transaction
		} else {
			p.sealComplete()
		}
	}
	return nil
}

// stash removes b.Changes[start:] and returns them in the pipeline's scratch
// slice, so that waiting for buffer space never counts them twice.
func (p *Pipeline) stash(b *batch, start int) []sluice.Change {
	p.scratch = append(p.scratch[:0], b.Changes[start:]...)
	clear(b.Changes[start:])
	b.Changes = b.Changes[:start]
	return p.scratch
}

// Progress records snapshot progress for Stats.
func (e emitter) Progress(pr sluice.Progress) { e.p.stats.progress(pr) }

// reserve waits until n more changes fit in the buffer. Called with p.mu
// held; it may release it while waiting and may seal the current batch.
func (p *Pipeline) reserve(n int) error {
	for {
		if p.stopping {
			return ErrStopped
		}
		cur := len(p.cur.Changes)
		if p.inflight+cur+n <= p.cfg.BufferChanges || (p.inflight == 0 && cur == 0) {
			return nil
		}
		if p.inflight == 0 {
			// Everything buffered is in the batch being built: hand it over.
			if p.cur.boundary > 0 {
				p.sealComplete()
			} else {
				p.seal()
			}
			continue
		}
		ch := p.released
		p.mu.Unlock()
		<-ch // closed on every release and when stopping
		p.mu.Lock()
	}
}

// seal hands the current batch, whole, to every sink. Called with p.mu held.
func (p *Pipeline) seal() {
	b := p.cur
	if len(b.Changes) == 0 && b.Position == nil {
		return
	}
	if b.boundary != len(b.Changes) {
		b.Position = nil // a piece of a large transaction
	}
	p.cur = p.newBatch()
	p.enqueue(b)
}

// sealComplete hands over the current batch up to its last transaction end
// and keeps the rest (an unfinished transaction) in a new current batch.
// Called with p.mu held.
func (p *Pipeline) sealComplete() {
	b := p.cur
	if b.boundary == len(b.Changes) {
		p.seal()
		return
	}
	if b.boundary == 0 {
		return // nothing complete yet
	}
	nb := p.newBatch()
	nb.Changes = append(nb.Changes, b.Changes[b.boundary:]...)
	clear(b.Changes[b.boundary:])
	b.Changes = b.Changes[:b.boundary]
	nb.rows, nb.bytes, nb.last = b.rows-b.bRows, b.bytes-b.bBytes, b.last
	nb.started = time.Now()
	b.rows, b.bytes, b.last = b.bRows, b.bBytes, b.bLast
	p.cur = nb
	p.enqueue(b)
}

// enqueue gives a sealed batch to every sink's queue.
func (p *Pipeline) enqueue(b *batch) {
	p.seq++
	b.seq = p.seq
	b.refs.Store(int32(len(p.queues)))
	p.inflight += len(b.Changes)
	for _, q := range p.queues {
		q.push(b)
	}
}

// release is called by each sink worker when its sink made b durable. The
// last one (the slowest sink) frees the buffer space and advances the
// durable position. Each sink finishes batches in order, so batches are
// finally released in order.
func (p *Pipeline) release(b *batch) {
	if b.refs.Add(-1) > 0 {
		return
	}
	p.mu.Lock()
	p.inflight -= len(b.Changes)
	if b.Position != nil {
		p.durable = b.Position
		p.durableVer++
	}
	p.stats.applied(len(b.Changes), b.rows, b.bytes, b.txns, b.last)
	p.wake()
	clear(b.Changes)
	b.Changes = b.Changes[:0]
	b.Position = nil
	b.started = time.Time{}
	b.boundary, b.rows, b.bRows, b.bytes, b.bBytes, b.txns = 0, 0, 0, 0, 0, 0
	b.last, b.bLast = time.Time{}, time.Time{}
	if cap(b.Changes) <= 4*p.cfg.Batch.MaxChanges {
		p.free = append(p.free, b)
	}
	p.mu.Unlock()
}

// wake lets goroutines waiting for buffer space or a stop look again.
// Called with p.mu held.
func (p *Pipeline) wake() {
	close(p.released)
	p.released = make(chan struct{})
}

// queue is one sink's FIFO of sealed batches. Its length is bounded by the
// buffer: every batch in it holds buffered changes.
type queue struct {
	mu     sync.Mutex
	items  []*batch
	closed bool
	ready  chan struct{} // has a token when items or closed changed
}

func newQueue() *queue { return &queue{ready: make(chan struct{}, 1)} }

func (q *queue) push(b *batch) {
	q.mu.Lock()
	q.items = append(q.items, b)
	q.mu.Unlock()
	q.signal()
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop returns the oldest batch; false once the queue is closed and empty
// or ctx is done.
func (q *queue) pop(ctx context.Context) (*batch, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			b := q.items[0]
			q.items[0] = nil
			q.items = q.items[1:]
			q.mu.Unlock()
			return b, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil, false
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// chainFor returns the transforms bound to t, binding them on first use.
// Called with p.mu held.
func (p *Pipeline) chainFor(t *sluice.Table) (transform.Mapper, error) {
	if t == p.lastTable {
		return p.lastChain, nil
	}
	m, ok := p.chains[t]
	if !ok {
		var err error
		if m, err = p.transform.Bind(t); err != nil {
			return nil, fmt.Errorf("pipeline %q: table %s: %w", p.cfg.Name, t.ID, err)
		}
		p.chains[t] = m
	}
	p.lastTable, p.lastChain = t, m
	return m, nil
}

// mapTables maps source tables through the transforms, keeping one entry
// per output table version and leaving out tables the transforms drop.
// failed, if set, is told of each table that the transforms do not fit;
// otherwise the first such error is returned.
func (p *Pipeline) mapTables(tables []*sluice.Table, failed func(*sluice.Table, error)) ([]*sluice.Table, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*sluice.Table
	seen := make(map[*sluice.Table]bool)
	for _, t := range tables {
		m, err := p.chainFor(t)
		if err != nil {
			if failed == nil {
				return nil, err
			}
			failed(t, err)
			continue
		}
		if o := m.Table(); o != nil && !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out, nil
}

// mapOldTables rewrites OldTable of transformed schema changes to the
// transformed old version, so sinks see their own table versions only.
func (p *Pipeline) mapOldTables(out []sluice.Change) error {
	for i := range out {
		if out[i].OldTable == nil || len(p.cfg.Transforms) == 0 {
			continue
		}
		m, err := p.chainFor(out[i].OldTable)
		if err != nil {
			return err
		}
		out[i].OldTable = m.Table()
	}
	return nil
}

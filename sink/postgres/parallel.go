package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/sink"
)

// minParallelRows is the least number of snapshot rows in a batch worth
// spreading over several connections, and the least rows per chunk.
const minParallelRows = 1000

// loadChunk is a run of snapshot rows of one table loaded on its own
// connection.
type loadChunk struct {
	p       *tablePlan
	changes []*sluice.Change
	dup     bool // a key existed: merge it in the batch transaction instead
	err     error
}

// parallelLoad loads the snapshot rows of tables that only have snapshot
// rows in b, split into chunks, on up to LoadWorkers pooled connections in
// parallel, each chunk committed in its own transaction before the batch
// transaction (which holds the checkpoint) commits. This is safe because
// snapshot rows are upserts: if the batch transaction then fails, the
// replayed rows merge idempotently. It returns the tables it handled and
// the chunks whose keys already existed, to merge in the batch transaction.
// Batches with a truncate or schema change are not split.
func (s *Sink) parallelLoad(ctx context.Context, b *sink.Batch) (map[*sluice.Table]bool, []*loadChunk, error) {
	if s.cfg.LoadWorkers < 2 || len(b.Changes) < 2*minParallelRows {
		return nil, nil, nil
	}
	reads := make(map[*sluice.Table][]*sluice.Change)
	var order []*sluice.Table
	notOnly := make(map[*sluice.Table]bool)
	var last *sluice.Table
	var lastOK bool
	for i := range b.Changes {
		c := &b.Changes[i]
		switch c.Op {
		case sluice.OpTruncate, sluice.OpSchema:
			return nil, nil, nil
		case sluice.OpRead:
			if c.Table != last {
				last = c.Table
				_, lastOK = reads[c.Table]
				if !lastOK {
					order = append(order, c.Table)
				}
			}
			reads[c.Table] = append(reads[c.Table], c)
		default:
			notOnly[c.Table] = true
		}
	}
	total := 0
	for _, t := range order {
		if notOnly[t] {
			continue
		}
		total += len(reads[t])
	}
	if total < 2*minParallelRows {
		return nil, nil, nil
	}
	size := max(minParallelRows, (total+s.cfg.LoadWorkers-1)/s.cfg.LoadWorkers)
	var chunks []*loadChunk
	handled := make(map[*sluice.Table]bool)
	for _, t := range order {
		if notOnly[t] {
			continue
		}
		p, err := s.plan(t)
		if err != nil {
			return nil, nil, err
		}
		handled[t] = true
		rows := reads[t]
		for len(rows) > 0 {
			n := min(size, len(rows))
			if len(rows)-n < minParallelRows/2 {
				n = len(rows) // no tiny tail chunk
			}
			chunks = append(chunks, &loadChunk{p: p, changes: rows[:n]})
			rows = rows[n:]
		}
	}
	work := make(chan *loadChunk)
	var wg sync.WaitGroup
	for range min(s.cfg.LoadWorkers, len(chunks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vals := make([]any, 0)
			for ch := range work {
				if cap(vals) < len(ch.p.cols) {
					vals = make([]any, len(ch.p.cols))
				}
				ch.err = s.loadChunk(ctx, ch, vals[:len(ch.p.cols)])
			}
		}()
	}
	for _, ch := range chunks {
		work <- ch
	}
	close(work)
	wg.Wait()
	// A chunk whose keys existed is merged in the batch transaction, with
	// every other chunk of its table, in order: a key read twice in the
	// batch then ends with its last value whichever chunk committed first.
	var dups []*loadChunk
	dupTable := make(map[*tablePlan]bool)
	for _, ch := range chunks {
		if ch.err != nil {
			return nil, nil, ch.err
		}
		if ch.dup {
			dupTable[ch.p] = true
		}
	}
	for _, t := range order {
		if !handled[t] {
			continue
		}
		if p, _ := s.plan(t); dupTable[p] {
			dups = append(dups, &loadChunk{p: p, changes: reads[t]})
		}
	}
	return handled, dups, nil
}

// loadChunk COPYs one chunk in its own transaction on a pooled connection.
func (s *Sink) loadChunk(ctx context.Context, ch *loadChunk, vals []any) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres sink: loading %s: %w", ch.p.qtarget, s.redact(err))
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres sink: loading %s: %w", ch.p.qtarget, s.redact(err))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	src := &readSource{p: ch.p, changes: ch.changes, vals: vals, i: -1}
	if _, err := tx.CopyFrom(ctx, ch.p.target, ch.p.cols, src); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			ch.dup = true
			return nil
		}
		if src.err != nil {
			return sluice.Permanent(fmt.Errorf("postgres sink: %w", src.err))
		}
		return fmt.Errorf("postgres sink: COPY into %s: %w", ch.p.qtarget, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres sink: committing load of %s: %w", ch.p.qtarget, err)
	}
	return nil
}

package pipeline

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sluicecdc/sluice"
)

// Stats is a snapshot of a pipeline's metrics (SPEC P5).
type Stats struct {
	State State
	// Totals of what every sink has made durable.
	Changes int64 // changes of every kind
	Rows    int64 // row changes: snapshot reads, inserts, updates, deletes
	Bytes   int64 // bytes read from the source for them (Change.Size)
	Txns    int64 // source transactions (and snapshot chunks) completed
	// Rates over the last few seconds.
	ChangesPerSec, RowsPerSec, BytesPerSec, TxnsPerSec float64
	// Lag is the time from the source commit of the newest change durable in
	// every sink until now; heartbeats from an idle source keep it true.
	Lag time.Duration
	// Buffered is the number of changes held by the pipeline now, and
	// MaxBuffered the most it ever held; both stay within BufferChanges.
	Buffered, MaxBuffered int
	// Snapshot lists initial-sync progress per table, in the order reported.
	Snapshot []TableProgress
	// Sinks has one entry per configured sink.
	Sinks []SinkStats
}

// TableProgress is the initial-sync progress of one table.
type TableProgress struct {
	Table      sluice.TableID
	Rows       int64   // rows read so far
	Total      int64   // estimated rows; 0 if unknown
	Done       bool    // every row read
	Percent    float64 // of Total, capped at 100; 100 when Done
	RowsPerSec float64 // since the table's snapshot started
	ETA        time.Duration
}

// SinkStats describes one sink.
type SinkStats struct {
	Changes      int64     // changes made durable
	Failing      bool      // the last write failed and is being retried
	FailingSince time.Time // first failure of the current run of failures
	LastError    string    // the last write error (sinks never put credentials in errors)
}

// Stats returns the current metrics.
func (p *Pipeline) Stats() Stats {
	st := p.stats.get()
	st.State = p.State()
	p.mu.Lock()
	st.Buffered, st.MaxBuffered = p.inflight+len(p.cur.Changes), p.maxBuffered
	p.mu.Unlock()
	return st
}

const sampleSlots = 6 // rates cover the last ~5 seconds

type sample struct {
	at                         time.Time
	changes, rows, bytes, txns int64
}

type tableState struct {
	sluice.Progress
	first time.Time
}

// stats is the pipeline's metric state, guarded by its own mutex so that
// Stats never waits for the emit path.
type stats struct {
	mu                         sync.Mutex
	changes, rows, bytes, txns int64
	lastCommit                 time.Time
	samples                    [sampleSlots]sample
	nsamples                   int
	tables                     map[sluice.TableID]*tableState
	order                      []sluice.TableID
	sinks                      []SinkStats
}

func (s *stats) init(sinks int) {
	s.sinks = make([]SinkStats, sinks)
	s.tables = make(map[sluice.TableID]*tableState)
}

func (s *stats) applied(changes, rows, bytes, txns int, last time.Time) {
	s.mu.Lock()
	s.changes += int64(changes)
	s.rows += int64(rows)
	s.bytes += int64(bytes)
	s.txns += int64(txns)
	if last.After(s.lastCommit) {
		s.lastCommit = last
	}
	s.mu.Unlock()
}

func (s *stats) caughtUp(t time.Time) {
	s.mu.Lock()
	if t.After(s.lastCommit) {
		s.lastCommit = t
	}
	s.mu.Unlock()
}

func (s *stats) progress(p sluice.Progress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts, ok := s.tables[p.Table]
	if !ok {
		ts = &tableState{first: time.Now()}
		s.tables[p.Table] = ts
		s.order = append(s.order, p.Table)
	}
	ts.Progress = p
}

// snapshotting reports whether some table's snapshot is reported and unfinished.
func (s *stats) snapshotting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tables {
		if !t.Done {
			return true
		}
	}
	return false
}

func (s *stats) sinkFailing(i int, since time.Time, err error) {
	s.mu.Lock()
	s.sinks[i].Failing, s.sinks[i].FailingSince, s.sinks[i].LastError = true, since, err.Error()
	s.mu.Unlock()
}

func (s *stats) sinkOK(i, changes int) {
	s.mu.Lock()
	s.sinks[i].Changes += int64(changes)
	s.sinks[i].Failing, s.sinks[i].FailingSince = false, time.Time{}
	s.mu.Unlock()
}

// sampleLoop records totals every second for the rates.
func (s *stats) sampleLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	s.sample(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.sample(now)
		}
	}
}

func (s *stats) sample(now time.Time) {
	s.mu.Lock()
	copy(s.samples[1:], s.samples[:sampleSlots-1])
	s.samples[0] = sample{now, s.changes, s.rows, s.bytes, s.txns}
	s.nsamples = min(s.nsamples+1, sampleSlots)
	s.mu.Unlock()
}

func (s *stats) get() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	st := Stats{
		Changes: s.changes, Rows: s.rows, Bytes: s.bytes, Txns: s.txns,
		Sinks: append([]SinkStats(nil), s.sinks...),
	}
	if !s.lastCommit.IsZero() {
		st.Lag = max(now.Sub(s.lastCommit), 0)
	}
	if s.nsamples > 0 {
		old := s.samples[s.nsamples-1]
		if dt := now.Sub(old.at).Seconds(); dt > 0 {
			st.ChangesPerSec = float64(s.changes-old.changes) / dt
			st.RowsPerSec = float64(s.rows-old.rows) / dt
			st.BytesPerSec = float64(s.bytes-old.bytes) / dt
			st.TxnsPerSec = float64(s.txns-old.txns) / dt
		}
	}
	for _, id := range s.order {
		t := s.tables[id]
		tp := TableProgress{Table: id, Rows: t.Rows, Total: t.Total, Done: t.Done}
		if el := now.Sub(t.first).Seconds(); el > 0 {
			tp.RowsPerSec = float64(t.Rows) / el
		}
		switch {
		case t.Done:
			tp.Percent = 100
		case t.Total > 0:
			tp.Percent = min(100, 100*float64(t.Rows)/float64(t.Total))
			if tp.RowsPerSec > 0 && t.Total > t.Rows {
				tp.ETA = time.Duration(float64(t.Total-t.Rows) / tp.RowsPerSec * float64(time.Second))
			}
		}
		st.Snapshot = append(st.Snapshot, tp)
	}
	return st
}

// String renders the stats on one line for people: during the initial sync
// the progress of each table with its ETA, afterwards the rates and the lag,
// and any failing sink.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] ", s.State)
	if s.State == StateInitialSync {
		for _, t := range s.Snapshot {
			if t.Done {
				fmt.Fprintf(&b, "%s ✓ %d rows  ", t.Table.Name, t.Rows)
				continue
			}
			fmt.Fprintf(&b, "%s %.0f%% (%d/%d, ETA %s)  ", t.Table.Name, t.Percent, t.Rows, t.Total, t.ETA.Round(100*time.Millisecond))
		}
		fmt.Fprintf(&b, "| %.0f rows/s", s.RowsPerSec)
	} else {
		fmt.Fprintf(&b, "%.0f changes/s, %.0f txns/s, %.1f KiB/s, lag %d ms, total %d changes",
			s.ChangesPerSec, s.TxnsPerSec, s.BytesPerSec/1024, s.Lag.Milliseconds(), s.Changes)
	}
	for i, k := range s.Sinks {
		if k.Failing {
			fmt.Fprintf(&b, " | sink %d failing since %s: %s", i, k.FailingSince.Format(time.TimeOnly), k.LastError)
		}
	}
	return b.String()
}

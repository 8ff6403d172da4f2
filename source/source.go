// Package source defines the Source contract: where changes come from.
//
// Backends live in subpackages (source/mysql, source/postgres); the
// conformance suite every backend passes is source/sourcetest.
package source

import (
	"context"
	"errors"

	"github.com/sluicecdc/sluice"
)

// Source reads changes from a database.
//
// Contract:
//   - Run delivers changes to out in the source's commit order, starting at
//     from (nil: from scratch, with the initial snapshot as configured). It
//     blocks until ctx is done (then it returns ctx.Err()), or a fatal error
//     occurs. Transient failures (a dropped connection) are retried inside the
//     source's configured window without skipping or splitting a transaction.
//   - Back-pressure: out.Emit blocks while the pipeline's buffer is full; the
//     source must not read ahead more than a bounded amount meanwhile.
//   - Every change that ends a source transaction or a snapshot chunk carries
//     a Pos from which Run can resume with nothing lost or split.
//   - Ack(pos) says every change up to pos is durable downstream. A source that
//     retains data for its reader (a PostgreSQL slot) may release it up to pos;
//     others may ignore it. Ack may be called from another goroutine than Run.
//   - Close releases connections; it is safe to call after Run returned.
//
// A Source is used by one pipeline, and Run is called at most once at a time.
type Source interface {
	// Tables resolves the configured selection to the current table versions.
	Tables(ctx context.Context) ([]*sluice.Table, error)
	// Run streams changes from the position from into out.
	Run(ctx context.Context, from sluice.Position, out Emitter) error
	// Ack acknowledges that every change up to pos is durable downstream.
	Ack(ctx context.Context, pos sluice.Position) error
	// Close releases the source's resources.
	Close() error
}

// Emitter receives what a Source produces. The pipeline implements it.
type Emitter interface {
	// Emit passes one change downstream. It blocks while the downstream buffer
	// is full and returns an error (then Run should return it) when the
	// pipeline is stopping or failed. The change's rows must not be modified
	// by the source afterwards.
	Emit(c sluice.Change) error
	// Progress reports snapshot progress for one table.
	Progress(p sluice.Progress)
}

// Prechecker is implemented by sources that can check their preconditions
// (connectivity, privileges, server settings, table keys) without changing
// anything.
type Prechecker interface {
	Precheck(ctx context.Context) []sluice.Check
}

// ErrPositionLost is wrapped by Run's error when the position to resume from
// no longer exists on the server (binlog purged, slot dropped). The remedy is
// a new initial snapshot (start without a checkpoint).
var ErrPositionLost = errors.New("source position no longer available")

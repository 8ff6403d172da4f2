// Package sink defines the Sink contract: where changes go.
//
// Backends live in subpackages (sink/postgres, sink/mysql, sink/kafka); the
// conformance suite every backend passes is sink/sinktest.
package sink

import (
	"context"

	"github.com/sluicecdc/sluice"
)

// Batch is a run of consecutive changes handed to a sink at once.
type Batch struct {
	// Changes in source commit order. Read-only: several sinks share them.
	Changes []sluice.Change
	// Position is the source position the batch ends at when it ends at a
	// transaction (or snapshot chunk) boundary, nil when it ends inside a
	// large transaction. A Checkpointer stores it with the data.
	Position sluice.Position
	// Checkpoint is the name the position is stored under (the pipeline name).
	Checkpoint string
}

// Sink writes changes to a target.
//
// Contract:
//   - Write returns nil only when every change of the batch is durable in the
//     target. On error nothing may be assumed written; the pipeline retries
//     the same batch, so applying a batch (or any prefix of one) twice must
//     leave the target as applying it once (idempotent replay).
//   - Changes of one table are applied in order; a key change (an update whose
//     key differs between Before and After) moves the row.
//   - Values equal to sluice.Unchanged leave the target column untouched.
//   - Write is never called concurrently on one Sink, and the sink must not
//     keep b or its Changes slice after Write returns (the pipeline reuses it).
//   - A batch may hold no changes but a Position (the source moved on through
//     transactions that produced nothing for this sink); a Checkpointer stores
//     the position. Batches never contain sluice.OpHeartbeat changes.
//   - An error that retrying cannot fix (a conflict under a fail policy, an
//     unsupported DDL) should be marked with sluice.Permanent so the pipeline
//     fails at once; any other error is retried within the pipeline's window.
//   - Close releases resources; it is called once, after the last Write.
type Sink interface {
	Write(ctx context.Context, b *Batch) error
	Close() error
}

// SchemaSyncer is implemented by sinks that create target objects before the
// initial sync. SyncSchema is called once, before the first Write of a
// pipeline that starts without a checkpoint, with the table versions as the
// sink will see them (after transforms). Later schema versions arrive as
// sluice.OpSchema changes through Write.
type SchemaSyncer interface {
	SyncSchema(ctx context.Context, tables []*sluice.Table) error
}

// Checkpointer is implemented by sinks that store Batch.Position in the same
// transaction as the batch's data, making delivery exactly-once: on restart
// the pipeline resumes from LoadCheckpoint's position.
type Checkpointer interface {
	// LoadCheckpoint returns the position stored under name, or nil if none.
	LoadCheckpoint(ctx context.Context, name string) (sluice.Position, error)
}

// Prechecker is implemented by sinks that can check their preconditions
// (connectivity, privileges, existing tables, supported types) for the given
// tables without writing anything.
type Prechecker interface {
	Precheck(ctx context.Context, tables []*sluice.Table) []sluice.Check
}

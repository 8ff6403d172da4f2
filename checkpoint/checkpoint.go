// Package checkpoint stores source positions so a pipeline can resume.
//
// A Store keeps one position per pipeline name. The pipeline saves a
// position only after every sink made the changes up to it durable, and
// only positions that end a source transaction or snapshot chunk. Sinks that
// store the position with their data (sink.Checkpointer) make delivery
// exactly-once; a Store alone gives at-least-once (replays are harmless
// because sinks apply idempotently).
package checkpoint

import (
	"context"

	"github.com/sluicecdc/sluice"
)

// Store loads and saves positions under a pipeline name.
type Store interface {
	// Load returns the position saved under name, or nil and no error if none.
	Load(ctx context.Context, name string) (sluice.Position, error)
	// Save durably replaces the position saved under name.
	Save(ctx context.Context, name string, pos sluice.Position) error
}

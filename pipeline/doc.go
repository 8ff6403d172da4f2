// Package pipeline runs a Source through Transforms into one or more Sinks:
// batching, back-pressure, retries, checkpoints, lifecycle, precheck and
// metrics.
//
// # Flow
//
// The source calls the pipeline's Emit from its own goroutine. Emit runs the
// transforms (bound once per table version) and appends the result to the
// batch being built. A batch is handed over ("sealed") when it reaches
// Batch.MaxChanges or Batch.MaxBytes, or when it is older than
// Batch.MaxDelay. Each sink has its own goroutine and FIFO queue, so sinks
// progress independently (one-to-many, SPEC P1); a batch is released when the
// slowest sink made it durable.
//
// # Transaction boundaries
//
// Sealed batches end at a source transaction end whenever possible: when a
// bound is reached in the middle of a transaction, the batch is cut at the
// last transaction end and the unfinished transaction moves on to the next
// batch. Only a transaction larger than a whole batch is split; its pieces
// carry no position. So a batch's Position is either exactly where the batch
// ends, or nil; and a sink that stores the position with its data
// (sink.Checkpointer) resumes exactly after what it applied. On stop, an
// unfinished transaction is not delivered; it is read again on restart.
//
// # Back-pressure and memory
//
// BufferChanges bounds the changes held by the pipeline: read from the
// source and not yet durable in every sink, the batch being built included.
// When it is full, Emit blocks, so the source stops reading (SPEC N3).
// Stats().MaxBuffered shows the most ever held.
//
// # Checkpoints and acknowledgements
//
// The order is always: every sink durable → checkpoint saved → Source.Ack.
// The newest durable position is saved at most every CheckpointInterval and
// once more when Run returns. On start, a pipeline with a single
// sink.Checkpointer sink resumes from the position stored with the sink's
// data (exactly-once); otherwise from the checkpoint.Store, which lags the
// sinks (at-least-once; sinks apply idempotently, so replays are harmless).
// With no checkpoint at all, schema-syncing sinks get the mapped tables
// (SyncSchema) and the source starts from scratch (initial sync).
//
// # Failures
//
// A failed Write is retried with exponential backoff (100 ms doubling to 5 s)
// until RetryWindow has passed since the first failure; then Run fails with
// an error naming the sink, the cause and since when it failed. Errors marked
// with sluice.Permanent fail at once. A source's own reconnects are its
// business; an error from Source.Run fails the pipeline after what was read
// has been delivered.
//
// # Lifecycle
//
// Run blocks. Stop (graceful: deliver what was read, within DrainTimeout)
// makes it return nil; cancelling its context does the same and returns the
// context's error. Pause and Resume stop and restart delivery. State
// reports prechecking, initial sync (while a table's snapshot is reported
// unfinished), synchronizing, paused, stopped or failed.
package pipeline

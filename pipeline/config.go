package pipeline

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sluicecdc/sluice/checkpoint"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/source"
	"github.com/sluicecdc/sluice/transform"
)

// Defaults applied by Validate to zero fields.
const (
	DefaultBatchMaxChanges    = 5000
	DefaultBatchMaxBytes      = 8 << 20
	DefaultBatchMaxDelay      = 200 * time.Millisecond
	DefaultBufferChanges      = 4 * DefaultBatchMaxChanges
	DefaultRetryWindow        = time.Minute
	DefaultCheckpointInterval = time.Second
	DefaultDrainTimeout       = 30 * time.Second
)

// Config describes a pipeline. Fields left zero take the defaults above;
// Validate fills them in and reports what is wrong.
type Config struct {
	// Name identifies the pipeline; checkpoints are stored under it. Required.
	Name string
	// Source is where changes come from. Required. The pipeline owns it:
	// Run closes it when it returns.
	Source source.Source
	// Transforms rewrite changes in order, between the source and the sinks.
	Transforms []transform.Transform
	// Sinks receive every change (one-to-many when several). Required. The
	// pipeline owns them: Run closes them when it returns.
	Sinks []sink.Sink
	// Checkpoints stores the position after every sink made changes durable.
	// Nil means an in-memory store: resuming then relies on a sink that keeps
	// the checkpoint with its data (sink.Checkpointer).
	Checkpoints checkpoint.Store

	// Batch bounds one batch handed to the sinks.
	Batch BatchConfig
	// BufferChanges bounds the changes held by the pipeline (read from the
	// source and not yet durable in every sink), the batch being built
	// included; a full buffer blocks the source (back-pressure). At least
	// Batch.MaxChanges.
	BufferChanges int
	// RetryWindow is how long a sink may keep failing, from its first failure,
	// before Run fails. Writes are retried with exponential backoff meanwhile.
	RetryWindow time.Duration
	// CheckpointInterval is the least time between two saves to Checkpoints.
	CheckpointInterval time.Duration
	// DrainTimeout bounds how long a stop waits for buffered changes to reach
	// the sinks before giving up on them (they are read again on restart).
	DrainTimeout time.Duration
	// SkipPrecheck runs without the precheck (not recommended).
	SkipPrecheck bool
	// Logger receives the pipeline's logs; nil means slog.Default().
	Logger *slog.Logger
}

// BatchConfig bounds a batch: it is handed to the sinks when any bound is
// reached.
type BatchConfig struct {
	MaxChanges int           // changes per batch
	MaxBytes   int           // bytes read from the source per batch (Change.Size)
	MaxDelay   time.Duration // age of the oldest change in the batch
}

// Validate fills in defaults and returns an error listing every problem.
func (c *Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("missing Name: it keys the checkpoint"))
	}
	if c.Source == nil {
		errs = append(errs, errors.New("missing Source"))
	}
	if len(c.Sinks) == 0 {
		errs = append(errs, errors.New("no Sinks: at least one is required"))
	}
	for i, s := range c.Sinks {
		if s == nil {
			errs = append(errs, fmt.Errorf("nil sink at Sinks[%d]", i))
		}
	}
	for i, t := range c.Transforms {
		if t == nil {
			errs = append(errs, fmt.Errorf("nil transform at Transforms[%d]", i))
		}
	}
	setDefault(&c.Batch.MaxChanges, DefaultBatchMaxChanges)
	setDefault(&c.Batch.MaxBytes, DefaultBatchMaxBytes)
	setDefault(&c.Batch.MaxDelay, DefaultBatchMaxDelay)
	setDefault(&c.BufferChanges, max(DefaultBufferChanges, 4*c.Batch.MaxChanges))
	setDefault(&c.RetryWindow, DefaultRetryWindow)
	setDefault(&c.CheckpointInterval, DefaultCheckpointInterval)
	setDefault(&c.DrainTimeout, DefaultDrainTimeout)
	if c.Batch.MaxChanges < 0 || c.Batch.MaxBytes < 0 || c.Batch.MaxDelay < 0 {
		errs = append(errs, errors.New("negative Batch bounds"))
	}
	if c.BufferChanges < c.Batch.MaxChanges {
		errs = append(errs, fmt.Errorf("buffer of %d changes (BufferChanges) is smaller than one batch (Batch.MaxChanges %d)", c.BufferChanges, c.Batch.MaxChanges))
	}
	if c.RetryWindow < 0 || c.CheckpointInterval < 0 || c.DrainTimeout < 0 {
		errs = append(errs, errors.New("negative RetryWindow, CheckpointInterval or DrainTimeout"))
	}
	if c.Checkpoints == nil {
		c.Checkpoints = checkpoint.NewMemory()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if len(errs) > 0 {
		return fmt.Errorf("pipeline %q: invalid config: %w", c.Name, errors.Join(errs...))
	}
	return nil
}

func setDefault[T int | time.Duration](v *T, d T) {
	if *v == 0 {
		*v = d
	}
}

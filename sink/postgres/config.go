package postgres

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/sluicecdc/sluice"
)

// ExistingTable says what SyncSchema does with a target table that already
// exists and was not created by this sink.
type ExistingTable uint8

// Existing-table modes.
const (
	// ExistingFail refuses to start: Precheck lists the conflicting tables and
	// SyncSchema fails naming them. Tables this sink created earlier (recorded
	// in the checkpoint schema) are not conflicts: they are reused.
	ExistingFail ExistingTable = iota
	// ExistingIgnore keeps the table and its rows and writes into it.
	ExistingIgnore
	// ExistingTruncate empties the table before the initial load.
	ExistingTruncate
)

// String returns "fail", "ignore" or "truncate".
func (m ExistingTable) String() string {
	switch m {
	case ExistingFail:
		return "fail"
	case ExistingIgnore:
		return "ignore"
	case ExistingTruncate:
		return "truncate"
	}
	return fmt.Sprintf("ExistingTable(%d)", uint8(m))
}

// Conflict is the policy for a change that does not fit the target's state:
// an insert whose key exists, an update or a delete of a missing row.
// Snapshot reads (sluice.OpRead) are always upserts.
type Conflict uint8

// Conflict policies.
const (
	// ConflictOverwrite makes the target follow the source: inserts and
	// updates are upserts (an update of a missing row inserts it), a delete of
	// a missing row is ignored. Replay is idempotent with or without the
	// transactional checkpoint.
	ConflictOverwrite Conflict = iota
	// ConflictIgnore skips the conflicting change and keeps the target row.
	ConflictIgnore
	// ConflictFail fails the batch with a permanent error naming the table and
	// key. Replaying an already-applied batch would trip it, so it relies on
	// the transactional checkpoint (sink.Checkpointer) that makes the pipeline
	// resume after the last applied batch.
	ConflictFail
)

// String returns "overwrite", "ignore" or "fail".
func (c Conflict) String() string {
	switch c {
	case ConflictOverwrite:
		return "overwrite"
	case ConflictIgnore:
		return "ignore"
	case ConflictFail:
		return "fail"
	}
	return fmt.Sprintf("Conflict(%d)", uint8(c))
}

// DDLPolicy says what Write does with a schema change it does not apply:
// anything but a new table, added columns, widened column types and
// columns that became nullable (see the package doc).
type DDLPolicy uint8

// DDL policies.
const (
	// DDLFail fails the batch with a permanent error naming the table and DDL.
	DDLFail DDLPolicy = iota
	// DDLSkip logs the change and goes on; the target table keeps its shape
	// (a dropped column stays, its NOT NULL constraint relaxed).
	DDLSkip
)

// String returns "fail" or "skip".
func (p DDLPolicy) String() string {
	if p == DDLSkip {
		return "skip"
	}
	if p == DDLFail {
		return "fail"
	}
	return fmt.Sprintf("DDLPolicy(%d)", uint8(p))
}

// Defaults applied by Validate.
const (
	DefaultCheckpointSchema = "sluice"
	DefaultCheckpointTable  = "checkpoints"
	DefaultLoadWorkers      = 1
)

// Config configures a PostgreSQL sink. Zero fields take the defaults above.
type Config struct {
	// ConnString is a libpq-style URL or key=value string. Required. It is
	// never logged and never appears in errors.
	ConnString string
	// TargetSchema, when set, receives every table; otherwise a table goes to
	// the schema named like its source schema (the MySQL database), and
	// tables without a schema go to "public".
	TargetSchema string
	// CheckpointSchema holds the checkpoint table and the registry of tables
	// this sink created (CheckpointTable + "_tables"). Default "sluice".
	CheckpointSchema string
	// CheckpointTable is the checkpoint table's name. Default "checkpoints".
	CheckpointTable string
	// ExistingTable is what SyncSchema does with a pre-existing target table.
	ExistingTable ExistingTable
	// Conflict is the policy for duplicate inserts and updates or deletes of
	// missing rows.
	Conflict Conflict
	// ReplicaRole sets session_replication_role = replica on every session,
	// so triggers and foreign-key checks do not fire (needs a superuser).
	ReplicaRole bool
	// DistributedBy adds DISTRIBUTED BY (columns) to CREATE TABLE for
	// Greenplum / AnalyticDB-for-PostgreSQL targets, per target table
	// (schema-qualified source id). See also DistributeByKey.
	DistributedBy map[sluice.TableID][]string
	// DistributeByKey adds DISTRIBUTED BY (key columns) to every created
	// table that has no DistributedBy entry.
	DistributeByKey bool
	// OnDDL is what to do with schema changes other than new tables and
	// added columns.
	OnDDL DDLPolicy
	// LoadWorkers is the number of connections that load a batch's snapshot
	// rows in parallel (split by table and into chunks of at least 1,000
	// rows, each chunk committed before the batch transaction). Default 1:
	// everything in the batch transaction. On a 2-core host sharing CPU with
	// the source, 2 workers measured no faster (see the package doc); raise
	// it for targets with cores to spare.
	LoadWorkers int
	// Logger receives the sink's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Validate fills in defaults and reports every problem.
func (c *Config) Validate() error {
	var errs []error
	if c.ConnString == "" {
		errs = append(errs, errors.New("ConnString is required"))
	}
	if c.CheckpointSchema == "" {
		c.CheckpointSchema = DefaultCheckpointSchema
	}
	if c.CheckpointTable == "" {
		c.CheckpointTable = DefaultCheckpointTable
	}
	if c.ExistingTable > ExistingTruncate {
		errs = append(errs, fmt.Errorf("ExistingTable %d is not one of ExistingFail, ExistingIgnore, ExistingTruncate", c.ExistingTable))
	}
	if c.Conflict > ConflictFail {
		errs = append(errs, fmt.Errorf("Conflict %d is not one of ConflictOverwrite, ConflictIgnore, ConflictFail", c.Conflict))
	}
	if c.OnDDL > DDLSkip {
		errs = append(errs, fmt.Errorf("OnDDL %d is not one of DDLFail, DDLSkip", c.OnDDL))
	}
	if c.LoadWorkers < 0 {
		errs = append(errs, fmt.Errorf("LoadWorkers %d must not be negative", c.LoadWorkers))
	}
	if c.LoadWorkers == 0 {
		c.LoadWorkers = DefaultLoadWorkers
	}
	for id, cols := range c.DistributedBy {
		if len(cols) == 0 {
			errs = append(errs, fmt.Errorf("DistributedBy[%s] lists no column", id))
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if len(errs) > 0 {
		return fmt.Errorf("postgres sink: invalid config: %w", errors.Join(errs...))
	}
	return nil
}

package sluice

import (
	"strconv"
	"time"
)

// Op is the kind of a Change.
type Op uint8

// The operations a Change can carry.
const (
	// OpRead is a row read by the initial snapshot. Sinks may bulk-load it;
	// applying it twice must leave one row (it behaves like an upsert).
	OpRead Op = iota + 1
	// OpInsert is a row inserted by a source transaction; After is set.
	OpInsert
	// OpUpdate is a row changed by a source transaction; Before and After are
	// set. The key may differ between them (a primary-key change).
	OpUpdate
	// OpDelete is a row deleted by a source transaction; Before is set.
	OpDelete
	// OpTruncate empties Table.
	OpTruncate
	// OpSchema announces a new version of Table (or its creation); OldTable is
	// the version it replaces (nil for a new table) and DDL the statement when
	// the source has one. A dropped table has Dropped set and Table is the
	// last version.
	OpSchema
	// OpHeartbeat carries no data: it moves Time (for lag) and, when Pos is
	// set, the resumable position forward while captured tables are idle.
	OpHeartbeat
	opCount
)

var opNames = [opCount]string{"", "read", "insert", "update", "delete", "truncate", "schema", "heartbeat"}

// String returns the op's lower-case name.
func (o Op) String() string {
	if o > 0 && o < opCount {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// IsRow reports whether o carries a row (read, insert, update, delete).
func (o Op) IsRow() bool { return o >= OpRead && o <= OpDelete }

// Change is one event from a source, in the source's commit order.
//
// Changes are values passed downstream read-only: a sink or transform must
// not modify Before, After or Table in place (several sinks may see the same
// Change); a transform that rewrites rows makes new ones.
type Change struct {
	Op Op
	// Table is the schema version the rows are aligned with. Nil only for
	// OpHeartbeat.
	Table *Table
	// Before is the row before an update or delete (nil otherwise).
	Before Row
	// After is the row after an insert, update or read (nil otherwise).
	After Row
	// Time is the source commit time of the change's transaction (the read
	// time for a snapshot row); lag is measured from it.
	Time time.Time
	// Pos is set on the last change of a source transaction, of a completed
	// snapshot chunk, or on a heartbeat: it is a position from which the source
	// can resume without losing or splitting a transaction. Only such positions
	// are ever saved as checkpoints. Nil on every other change.
	Pos Position
	// Size is the approximate size in bytes of the change as read from the
	// source, for throughput metrics.
	Size int
	// OldTable is the replaced version for OpSchema; nil for a new table.
	OldTable *Table
	// DDL is the source statement behind an OpSchema change, when known.
	DDL string
	// Dropped marks an OpSchema change that drops Table.
	Dropped bool
	// Origin is the id of the system that first wrote the change, when the
	// source knows it (binlog server id, replication origin); two-way setups
	// use it to break loops.
	Origin string
}

// TxEnd reports whether c ends a source transaction or snapshot chunk, so
// that its Pos may be saved as a checkpoint.
func (c *Change) TxEnd() bool { return c.Pos != nil }

// Position is an opaque, serializable source position owned by the source
// that produced it (binlog file and offset plus GTID set, an LSN, snapshot
// progress). Other packages store and pass it back but never interpret it.
type Position []byte

// Progress reports how far the initial snapshot of one table has come.
type Progress struct {
	Table TableID
	// Rows is the number of rows read so far.
	Rows int64
	// Total is the estimated row count (from table statistics); 0 if unknown.
	Total int64
	// Done is set once every row of the table has been read.
	Done bool
}

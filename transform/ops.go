package transform

import (
	"errors"
	"fmt"

	"github.com/sluicecdc/sluice"
)

// OpsConfig configures operation selection (SPEC T3).
type OpsConfig struct {
	// Allow lists the operations synchronized, from OpInsert, OpUpdate,
	// OpDelete, OpTruncate and OpSchema (DDL). Required. OpRead (snapshot
	// rows) and OpHeartbeat always pass and may be listed or not.
	Allow []sluice.Op
	// Tables restricts the selection to the tables these patterns match
	// (names as they enter this transform); other tables pass every
	// operation. Empty: every table.
	Tables []string
}

// Validate checks the configuration.
func (c *OpsConfig) Validate() error {
	_, _, err := newOpsRules(c)
	return err
}

func newOpsRules(c *OpsConfig) (allow [8]bool, tables tableRules, err error) {
	var errs []error
	if len(c.Allow) == 0 {
		errs = append(errs, errors.New("the Allow list is empty: list the operations to synchronize (OpInsert, OpUpdate, OpDelete, OpTruncate, OpSchema)"))
	}
	for _, op := range c.Allow {
		if op < sluice.OpRead || op > sluice.OpHeartbeat {
			errs = append(errs, fmt.Errorf("in Allow: %s is not an operation", op))
			continue
		}
		allow[op] = true
	}
	allow[sluice.OpRead], allow[sluice.OpHeartbeat] = true, true
	for i, s := range c.Tables {
		p, perr := ParseTablePattern(s)
		if perr != nil {
			errs = append(errs, fmt.Errorf("in Tables[%d]: %w", i, perr))
		}
		tables = append(tables, p)
	}
	if len(errs) > 0 {
		err = fmt.Errorf("transform: invalid operation selection: %w", errors.Join(errs...))
	}
	return allow, tables, err
}

// Ops is the operation-selection transform: changes whose operation is not
// allowed are dropped (their position is kept by the pipeline, so the
// checkpoint still advances).
//
// Snapshot reads (OpRead) always pass: selecting operations shapes the
// stream, not the initial copy. Heartbeats always pass.
//
// Dropping OpSchema (DDL): the sink is not told about schema changes, but
// later rows still carry the new *sluice.Table version (the source decodes
// them with the schema in force), so nothing downstream misreads a row; the
// target, however, keeps its old structure, and a sink writing a row with a
// column the target lacks fails with its own error. Drop DDL when the target
// schema is managed by hand. A table created on the source after the start
// then reaches the sink without a CREATE: the sink fails on its rows unless
// the table exists in the target.
//
// Order matters with a Filter: placed before it, Ops selects the source's
// operations, and an UPDATE leaving the filter still becomes a DELETE in
// the target; placed after it, Ops also drops the inserts and deletes the
// filter makes out of updates.
//
// Dropping OpTruncate leaves the target's rows in place when the source is
// truncated; later inserts of the same keys then behave as upserts.
type Ops struct {
	allow  [8]bool
	tables tableRules
}

// NewOps validates cfg and returns the transform.
func NewOps(cfg OpsConfig) (*Ops, error) {
	allow, tables, err := newOpsRules(&cfg)
	if err != nil {
		return nil, err
	}
	return &Ops{allow: allow, tables: tables}, nil
}

// Bind returns a mapper dropping the disallowed operations of t.
func (o *Ops) Bind(t *sluice.Table) (Mapper, error) {
	if len(o.tables) > 0 && o.tables.find(t.ID) < 0 {
		return passMapper{t}, nil
	}
	return &opsMapper{t: t, allow: &o.allow}, nil
}

type opsMapper struct {
	t     *sluice.Table
	allow *[8]bool
}

func (m *opsMapper) Table() *sluice.Table { return m.t }

func (m *opsMapper) Map(c sluice.Change, out []sluice.Change) ([]sluice.Change, error) {
	if int(c.Op) < len(m.allow) && m.allow[c.Op] {
		return append(out, c), nil
	}
	return out, nil
}

package transform

import (
	"errors"
	"fmt"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/transform/expr"
)

// FilterConfig configures row filters (SPEC T2).
type FilterConfig struct {
	// Rules are matched in order against the table's name as it enters this
	// transform; the first match gives the table's filter. Tables no rule
	// matches pass unfiltered.
	Rules []FilterRule
}

// FilterRule filters the rows of the tables Table matches.
type FilterRule struct {
	// Table is a table pattern (see ParseTablePattern).
	Table string
	// Where is the condition rows must satisfy (see package expr for the
	// language): a row passes only when it is TRUE, not FALSE or UNKNOWN.
	Where string
}

// Validate parses every pattern and expression. Column names and types are
// checked later, by Bind, against each table.
func (c *FilterConfig) Validate() error {
	_, err := newFilterRules(c)
	return err
}

type filterRule struct {
	match TablePattern
	expr  *expr.Expr
}

func newFilterRules(c *FilterConfig) ([]filterRule, error) {
	var errs []error
	var rules []filterRule
	for i, r := range c.Rules {
		p, err := ParseTablePattern(r.Table)
		if err != nil {
			errs = append(errs, fmt.Errorf("in Rules[%d].Table: %w", i, err))
		}
		e, err := expr.Parse(r.Where)
		if err != nil {
			errs = append(errs, fmt.Errorf("in Rules[%d] (%s): filter %q: %w", i, r.Table, r.Where, err))
		}
		rules = append(rules, filterRule{match: p, expr: e})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("transform: invalid filter config: %w", errors.Join(errs...))
	}
	return rules, nil
}

// Filter is the row-filter transform. Build it with NewFilter.
//
// Per change (c.Table bound to a filter):
//   - read, insert: kept when After passes;
//   - delete: kept when Before passes;
//   - update: both pass → update; only After passes → insert of After (the
//     row moves into the filter); only Before passes → delete of Before
//     (the row moves out); neither → dropped;
//   - truncate, schema changes: kept.
//
// Snapshot reads and streamed changes go through the same predicate, so
// both give the same rows. An UPDATE's before-image must be complete
// (MySQL binlog_row_image=FULL, PostgreSQL REPLICA IDENTITY FULL) for the
// in/out decision; when the source sends no before-image, an update whose
// After passes is kept as an update (sinks upsert) and one whose After fails
// becomes a delete by the same key.
//
// A schema change that drops or retypes a column a filter reads makes Bind
// of the new table version fail; the pipeline then stops with that error
// (fix the filter and restart) rather than guess.
//
// No filter is pushed into the snapshot query: the source reads every row
// and the same predicate drops them, which keeps snapshot and stream
// identical by construction (a pushed-down WHERE would compare strings with
// the server's collation, not byte-wise).
type Filter struct {
	rules []filterRule
}

// NewFilter validates cfg (syntax errors are reported here, with their
// position) and returns the transform.
func NewFilter(cfg FilterConfig) (*Filter, error) {
	rules, err := newFilterRules(&cfg)
	if err != nil {
		return nil, err
	}
	return &Filter{rules: rules}, nil
}

// Bind compiles the table's filter: an unknown column or a type mismatch
// fails here, as an error wrapping *expr.Error.
func (f *Filter) Bind(t *sluice.Table) (Mapper, error) {
	for _, r := range f.rules {
		if !r.match.Match(t.ID) {
			continue
		}
		p, err := r.expr.Compile(t)
		if err != nil {
			return nil, fmt.Errorf("filter %q for table %s: %w", r.expr, t.ID, err)
		}
		return &filterMapper{t: t, p: p}, nil
	}
	return passMapper{t}, nil
}

// passMapper passes every change unchanged.
type passMapper struct{ t *sluice.Table }

func (m passMapper) Table() *sluice.Table { return m.t }

func (m passMapper) Map(c sluice.Change, out []sluice.Change) ([]sluice.Change, error) {
	return append(out, c), nil
}

type filterMapper struct {
	t *sluice.Table
	p *expr.Predicate
}

func (m *filterMapper) Table() *sluice.Table { return m.t }

func (m *filterMapper) pass(r, fb sluice.Row) (bool, error) {
	t, err := m.p.Eval(r, fb)
	return t == expr.True, err
}

func (m *filterMapper) Map(c sluice.Change, out []sluice.Change) ([]sluice.Change, error) {
	switch c.Op {
	case sluice.OpRead, sluice.OpInsert:
		ok, err := m.pass(c.After, nil)
		if err != nil || !ok {
			return out, err
		}
	case sluice.OpDelete:
		ok, err := m.pass(c.Before, nil)
		if err != nil || !ok {
			return out, err
		}
	case sluice.OpUpdate:
		after, err := m.pass(c.After, c.Before)
		if err != nil {
			return out, err
		}
		if c.Before == nil { // no before-image: see the Filter doc
			if !after {
				c.Op, c.Before, c.After = sluice.OpDelete, withoutUnchanged(c.After), nil
			}
			return append(out, c), nil
		}
		before, err := m.pass(c.Before, nil)
		if err != nil {
			return out, err
		}
		switch {
		case before && after:
		case after: // moves into the filter
			row, err := resolveUnchanged(c.After, c.Before, m.t)
			if err != nil {
				return out, err
			}
			c.Op, c.Before, c.After = sluice.OpInsert, nil, row
		case before: // moves out of the filter
			c.Op, c.After = sluice.OpDelete, nil
		default:
			return out, nil
		}
	}
	return append(out, c), nil
}

// resolveUnchanged returns after with Unchanged values taken from before,
// for an update turned into an insert.
func resolveUnchanged(after, before sluice.Row, t *sluice.Table) (sluice.Row, error) {
	var row sluice.Row
	for i, v := range after {
		if !sluice.IsUnchanged(v) {
			continue
		}
		if before == nil || sluice.IsUnchanged(before[i]) {
			return nil, fmt.Errorf("filter on table %s: an update moves a row into the filter, but the source did not send column %q (unchanged TOAST); set REPLICA IDENTITY FULL on the source table", t.ID, t.Columns[i].Name)
		}
		if row == nil {
			row = append(sluice.Row(nil), after...)
		}
		row[i] = before[i]
	}
	if row == nil {
		return after, nil
	}
	return row, nil
}

// withoutUnchanged returns r with Unchanged values replaced by NULL, for a
// delete built from an after-image (only its key matters).
func withoutUnchanged(r sluice.Row) sluice.Row {
	var out sluice.Row
	for i, v := range r {
		if sluice.IsUnchanged(v) {
			if out == nil {
				out = append(sluice.Row(nil), r...)
			}
			out[i] = nil
		}
	}
	if out == nil {
		return r
	}
	return out
}

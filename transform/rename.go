package transform

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sluicecdc/sluice"
)

// ErrNameClash is wrapped by Bind's error when two different source tables
// map to the same target table without a MergeRule saying so.
var ErrNameClash = errors.New("two source tables map to one target table")

// ErrIncompatibleMerge is wrapped by Bind's error when a source table of a
// merge does not fit the target shaped by the other sources (different key
// columns, or a shared column of another kind).
var ErrIncompatibleMerge = errors.New("merged source tables are incompatible")

// RenameConfig configures name mapping (SPEC T1): schema (database)
// renames, table renames, column renames, column deselection and merging
// several source tables into one target table. Every rule is matched against
// the names of the table as it enters this transform.
type RenameConfig struct {
	// Schemas renames schemas (MySQL databases); the first rule whose From
	// matches wins. A table rule or merge rule naming a target schema
	// overrides it.
	Schemas []SchemaRule
	// Tables holds per-table rules; the first rule whose Match matches wins.
	Tables []TableRule
	// Merges sends several source tables to one target table. A table
	// matched by a merge rule still takes its column rules from Tables.
	Merges []MergeRule
}

// SchemaRule renames a schema.
type SchemaRule struct {
	// From is a schema name or glob (shop_*).
	From string
	// To is the target schema name.
	To string
}

// TableRule renames a table and its columns and selects columns.
type TableRule struct {
	// Match is a table pattern (see ParseTablePattern): shop.orders,
	// shop_*.orders, "odd.name".orders.
	Match string
	// To is the target table: "name" (keeps the schema, after Schemas) or
	// "schema.name". Empty keeps the name.
	To string
	// Columns renames columns: source name → target name.
	Columns map[string]string
	// Drop lists columns left out of the target (deselection). Key columns
	// cannot be dropped.
	Drop []string
	// Keep, when not empty, lists the only columns kept (the key columns
	// must be among them). Keep and Drop are exclusive.
	Keep []string
	// IgnoreMissing lets Columns, Drop and Keep name columns a table version
	// lacks (useful with patterns and across schema changes). By default
	// such a name fails Bind, catching typos in the precheck.
	IgnoreMissing bool
}

// MergeRule merges several source tables into one target table, e.g. the
// shards shop_01.orders, shop_02.orders into public.orders.
//
// The sources must be compatible: after column rules they have the same
// key column names, and a column present in two of them has the same kind.
// Sources of one shape share one output *sluice.Table, so a sink sees one
// table version; when sources differ during a rolling schema change, each
// shape is its own version of the target.
//
// The merged key must be unique across all sources: two shards holding the
// same key would overwrite each other's rows in the target. When keys can
// clash, set SourceColumn (and SourceInKey) so the source table is part of
// the target row and key.
//
// A TRUNCATE or DROP TABLE of one source is not forwarded (it would empty or
// drop the rows of every source); other DDL is.
type MergeRule struct {
	// From lists the source table patterns.
	From []string
	// To is the target table, "schema.name" or "name" (then the schema comes
	// from Schemas, else the source's schema).
	To string
	// SourceColumn, when set, adds a non-null column of that name holding the
	// source table as "schema.name" (string, at most 255 characters).
	SourceColumn string
	// SourceInKey puts SourceColumn first in the target's key.
	SourceInKey bool
}

// Validate checks the configuration without any table.
func (c *RenameConfig) Validate() error {
	_, err := newRenameRules(c)
	return err
}

type schemaRule struct {
	from namePattern
	to   string
}

type tableRule struct {
	TableRule
	match TablePattern
	to    sluice.TableID
}

type mergeRule struct {
	MergeRule
	from []TablePattern
	to   sluice.TableID
}

type renameRules struct {
	schemas []schemaRule
	tables  []tableRule
	merges  []mergeRule
}

func newRenameRules(c *RenameConfig) (*renameRules, error) {
	var errs []error
	r := &renameRules{}
	for i, s := range c.Schemas {
		parts, err := splitQualified(s.From, 1)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("in Schemas[%d].From %q: %w", i, s.From, err))
		case s.To == "":
			errs = append(errs, fmt.Errorf("in Schemas[%d]: To is empty", i))
		default:
			r.schemas = append(r.schemas, schemaRule{from: parts[0], to: s.To})
		}
	}
	for i, t := range c.Tables {
		p, err := ParseTablePattern(t.Match)
		if err != nil {
			errs = append(errs, fmt.Errorf("in Tables[%d].Match: %w", i, err))
			continue
		}
		tr := tableRule{TableRule: t, match: p}
		if t.To != "" {
			if tr.to, err = parseTableID(t.To); err != nil {
				errs = append(errs, fmt.Errorf("in Tables[%d].To: %w", i, err))
			}
		}
		if len(t.Keep) > 0 && len(t.Drop) > 0 {
			errs = append(errs, fmt.Errorf("in Tables[%d] (%s): set Keep or Drop, not both", i, t.Match))
		}
		targets := map[string]string{}
		for from, to := range t.Columns {
			if from == "" || to == "" {
				errs = append(errs, fmt.Errorf("in Tables[%d] (%s): column rename %q → %q: names must not be empty", i, t.Match, from, to))
			}
			if other, dup := targets[to]; dup {
				errs = append(errs, fmt.Errorf("in Tables[%d] (%s): columns %q and %q are both renamed to %q", i, t.Match, other, from, to))
			}
			targets[to] = from
		}
		r.tables = append(r.tables, tr)
	}
	for i, m := range c.Merges {
		mr := mergeRule{MergeRule: m}
		if len(m.From) == 0 {
			errs = append(errs, fmt.Errorf("in Merges[%d]: From is empty", i))
		}
		for _, f := range m.From {
			p, err := ParseTablePattern(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("in Merges[%d].From: %w", i, err))
				continue
			}
			mr.from = append(mr.from, p)
		}
		var err error
		if mr.to, err = parseTableID(m.To); err != nil {
			errs = append(errs, fmt.Errorf("in Merges[%d].To: %w", i, err))
		}
		if m.SourceInKey && m.SourceColumn == "" {
			errs = append(errs, fmt.Errorf("in Merges[%d] (%s): SourceInKey needs SourceColumn", i, m.To))
		}
		for j := range r.merges {
			if r.merges[j].to == mr.to && mr.to.Schema != "" {
				errs = append(errs, fmt.Errorf("in Merges[%d] and Merges[%d] have the same target %s; list every source in one rule", j, i, m.To))
			}
		}
		r.merges = append(r.merges, mr)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("transform: invalid rename config: %w", errors.Join(errs...))
	}
	return r, nil
}

// Rename is the name-mapping transform. Build it with NewRename. It is safe
// for concurrent Bind calls; each Mapper it returns is used by one
// goroutine at a time.
type Rename struct {
	rules *renameRules

	mu     sync.Mutex
	plans  map[*sluice.Table]*renamePlan
	groups map[sluice.TableID]*targetGroup
}

// targetGroup is every output version of one target table.
type targetGroup struct {
	merge    *mergeRule
	sources  []sluice.TableID
	versions []*sluice.Table
}

// renamePlan is the immutable result of binding one input version.
type renamePlan struct {
	in, out  *sluice.Table
	idx      []int // source column index per output column, -1 for fixed
	fixed    []any // fixed values (the source column), aligned with idx
	identity bool  // rows pass through untouched
	merged   bool
}

// NewRename validates cfg and returns the transform.
func NewRename(cfg RenameConfig) (*Rename, error) {
	r, err := newRenameRules(&cfg)
	if err != nil {
		return nil, err
	}
	return &Rename{rules: r, plans: map[*sluice.Table]*renamePlan{}, groups: map[sluice.TableID]*targetGroup{}}, nil
}

// Bind maps t's names once; the Mapper rewrites rows by index.
func (r *Rename) Bind(t *sluice.Table) (Mapper, error) {
	p, err := r.plan(t)
	if err != nil {
		return nil, err
	}
	return &renameMapper{r: r, p: p}, nil
}

func (r *Rename) plan(t *sluice.Table) (*renamePlan, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.plans[t]; ok {
		return p, nil
	}
	p, err := r.build(t)
	if err != nil {
		return nil, fmt.Errorf("rename: table %s: %w", t.ID, err)
	}
	r.plans[t] = p
	return p, nil
}

func (r *Rename) mapSchema(s string) string {
	for _, sr := range r.rules.schemas {
		if sr.from.match(s) {
			return sr.to
		}
	}
	return s
}

// build computes the plan for t. Called with r.mu held.
func (r *Rename) build(t *sluice.Table) (*renamePlan, error) {
	target := sluice.TableID{Schema: r.mapSchema(t.ID.Schema), Name: t.ID.Name}
	var tr *tableRule
	if i := slices.IndexFunc(r.rules.tables, func(x tableRule) bool { return x.match.Match(t.ID) }); i >= 0 {
		tr = &r.rules.tables[i]
		if tr.to.Name != "" {
			target.Name = tr.to.Name
			if tr.to.Schema != "" {
				target.Schema = tr.to.Schema
			}
		}
	}
	var mr *mergeRule
	for i := range r.rules.merges {
		if slices.ContainsFunc(r.rules.merges[i].from, func(p TablePattern) bool { return p.Match(t.ID) }) {
			mr = &r.rules.merges[i]
			target.Name = mr.to.Name
			if mr.to.Schema != "" {
				target.Schema = mr.to.Schema
			}
			break
		}
	}

	// Columns: selection, then renames.
	n := len(t.Columns)
	keep := make([]bool, n)
	for i := range keep {
		keep[i] = true
	}
	var missing []string
	if tr != nil {
		if len(tr.Keep) > 0 {
			clear(keep)
			for _, name := range tr.Keep {
				if i := t.ColumnIndex(name); i >= 0 {
					keep[i] = true
				} else {
					missing = append(missing, name)
				}
			}
		}
		for _, name := range tr.Drop {
			if i := t.ColumnIndex(name); i >= 0 {
				keep[i] = false
			} else {
				missing = append(missing, name)
			}
		}
		for from := range tr.Columns {
			if t.ColumnIndex(from) < 0 {
				missing = append(missing, from)
			}
		}
		if len(missing) > 0 && !tr.IgnoreMissing {
			slices.Sort(missing)
			return nil, fmt.Errorf("rule %q names columns the table lacks: %s (fix the rule, or set IgnoreMissing)", tr.Match, strings.Join(missing, ", "))
		}
	}
	for _, k := range t.Key {
		if !keep[k] {
			return nil, fmt.Errorf("key column %q cannot be dropped: the target could not apply updates and deletes (keep it, or drop the whole table by not selecting it)", t.Columns[k].Name)
		}
	}
	var cols []sluice.Column
	var idx []int
	newPos := make([]int, n)
	for i, c := range t.Columns {
		newPos[i] = -1
		if !keep[i] {
			continue
		}
		if tr != nil {
			if to, ok := tr.Columns[c.Name]; ok {
				c.Name = to
			}
		}
		newPos[i] = len(cols)
		cols = append(cols, c)
		idx = append(idx, i)
	}
	key := make([]int, 0, len(t.Key)+1)
	var fixed []any
	if mr != nil && mr.SourceColumn != "" {
		if slices.ContainsFunc(cols, func(c sluice.Column) bool { return c.Name == mr.SourceColumn }) {
			return nil, fmt.Errorf("merge into %s: SourceColumn %q clashes with a column of the table; choose another name", target, mr.SourceColumn)
		}
		fixed = make([]any, len(cols)+1)
		fixed[len(cols)] = t.ID.String()
		if mr.SourceInKey {
			key = append(key, len(cols))
		}
		cols = append(cols, sluice.Column{Name: mr.SourceColumn, Type: sluice.Type{Kind: sluice.KindString, Length: 255}})
		idx = append(idx, -1)
	}
	for _, k := range t.Key {
		key = append(key, newPos[k])
	}
	identity := len(idx) == n && fixed == nil
	for j, i := range idx {
		identity = identity && i == j
	}
	p := &renamePlan{in: t, idx: idx, fixed: fixed, identity: identity, merged: mr != nil}

	g := r.groups[target]
	if g == nil {
		g = &targetGroup{merge: mr}
		r.groups[target] = g
	}
	if !slices.Contains(g.sources, t.ID) {
		if len(g.sources) > 0 && (mr == nil || g.merge != mr) {
			return nil, fmt.Errorf("%w: %s and %s both map to %s; add a MergeRule if they should be merged, or rename one of them", ErrNameClash, g.sources[0], t.ID, target)
		}
		g.sources = append(g.sources, t.ID)
	}
	if identity && target == t.ID && sameColumnNames(cols, t.Columns) && mr == nil {
		p.out = t // nothing changes: keep the source's own version
		return p, nil
	}
	out, err := sluice.NewTable(target, cols, key)
	if err != nil {
		return nil, fmt.Errorf("mapping to %s: %w (check the column renames)", target, err)
	}
	for _, v := range g.versions {
		if mr != nil {
			if err := compatible(v, out); err != nil {
				return nil, fmt.Errorf("%w: source %s does not fit target %s: %v", ErrIncompatibleMerge, t.ID, target, err)
			}
		}
	}
	for _, v := range g.versions {
		if v.SameShape(out) {
			p.out = v
			return p, nil
		}
	}
	g.versions = append(g.versions, out)
	p.out = out
	return p, nil
}

func sameColumnNames(a, b []sluice.Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

// compatible checks two shapes of one merge target: same key names and the
// same kind for every column they share.
func compatible(a, b *sluice.Table) error {
	if !slices.Equal(a.KeyNames(), b.KeyNames()) {
		return fmt.Errorf("key (%s) differs from (%s)", strings.Join(b.KeyNames(), ", "), strings.Join(a.KeyNames(), ", "))
	}
	for _, c := range b.Columns {
		if i := a.ColumnIndex(c.Name); i >= 0 && a.Columns[i].Type.Kind != c.Type.Kind {
			return fmt.Errorf("column %q is %s here but %s in another source", c.Name, c.Type, a.Columns[i].Type)
		}
	}
	return nil
}

// renameMapper rewrites the changes of one input version.
type renameMapper struct {
	r    *Rename
	p    *renamePlan
	slab rowSlab
}

func (m *renameMapper) Table() *sluice.Table { return m.p.out }

func (m *renameMapper) Map(c sluice.Change, out []sluice.Change) ([]sluice.Change, error) {
	p := m.p
	switch c.Op {
	case sluice.OpTruncate:
		if p.merged {
			return out, nil // would empty every source's rows in the target
		}
	case sluice.OpSchema:
		if p.merged && c.Dropped {
			return out, nil // would drop every source's rows in the target
		}
		if c.OldTable != nil {
			old, err := m.r.plan(c.OldTable)
			if err != nil {
				return out, err
			}
			c.OldTable = old.out
		}
	}
	c.Table = p.out
	if !p.identity {
		if c.Before != nil {
			c.Before = m.slab.project(c.Before, p.idx, p.fixed)
		}
		if c.After != nil {
			c.After = m.slab.project(c.After, p.idx, p.fixed)
		}
	}
	return append(out, c), nil
}

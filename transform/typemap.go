package transform

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/sluicecdc/sluice"
)

// TypeMapConfig configures type-mapping overrides (SPEC T4): the neutral
// type a column gets in the target, per column or per native source type.
// Sinks derive the target column type from the neutral type, so an
// override changes both the created column and the values written.
type TypeMapConfig struct {
	// Columns overrides single columns; the first matching rule wins and
	// beats any Natives rule.
	Columns []ColumnType
	// Natives overrides every column whose source type text (Column.Native)
	// matches; the first matching rule wins.
	Natives []NativeType
}

// ColumnType overrides the type of the columns Column matches.
type ColumnType struct {
	// Column is "schema.table.column" or "table.column" (any schema); each
	// part is a name or a glob, as in ParseTablePattern: shop.orders.is_paid,
	// shop_*.orders.is_*.
	Column string
	// Type is the target neutral type.
	Type sluice.Type
}

// NativeType overrides the type of the columns whose native source type
// matches Native.
type NativeType struct {
	// Native is compared with Column.Native case-insensitively, ignoring
	// surrounding space; * and ? are globs: "tinyint(1)", "tinyint(1)*"
	// (also unsigned), "decimal(*)".
	Native string
	// Type is the target neutral type.
	Type sluice.Type
}

// Validate checks the rules and target types without any table.
func (c *TypeMapConfig) Validate() error {
	_, _, err := newTypeRules(c)
	return err
}

type columnTypeRule struct {
	table TablePattern
	col   namePattern
	typ   sluice.Type
}

type nativeTypeRule struct {
	native namePattern
	typ    sluice.Type
}

func validType(t sluice.Type) error {
	switch {
	case t.Kind == sluice.KindInvalid || t.Kind.String() == "" || strings.HasPrefix(t.Kind.String(), "kind("):
		return fmt.Errorf("type has no valid kind")
	case (t.Kind == sluice.KindInt || t.Kind == sluice.KindUint) && t.Bits != 0 && t.Bits != 8 && t.Bits != 16 && t.Bits != 24 && t.Bits != 32 && t.Bits != 64:
		return fmt.Errorf("%s: Bits must be 8, 16, 24, 32 or 64", t)
	case t.Kind == sluice.KindDecimal && (t.Precision < 1 || t.Scale < 0 || t.Scale > t.Precision):
		return fmt.Errorf("%s: want 1 <= Precision and 0 <= Scale <= Precision", t)
	case (t.Kind == sluice.KindEnum || t.Kind == sluice.KindSet) && len(t.Members) == 0:
		return fmt.Errorf("%s: Members is empty", t)
	case t.Kind == sluice.KindBit && (t.Length < 1 || t.Length > 64):
		return fmt.Errorf("%s: Length must be 1..64 bits", t)
	case (t.Kind == sluice.KindTime || t.Kind == sluice.KindDateTime || t.Kind == sluice.KindTimestamp) && (t.Scale < 0 || t.Scale > 6):
		return fmt.Errorf("%s: Scale must be 0..6", t)
	}
	return nil
}

func newTypeRules(c *TypeMapConfig) ([]columnTypeRule, []nativeTypeRule, error) {
	var errs []error
	var cols []columnTypeRule
	var natives []nativeTypeRule
	for i, r := range c.Columns {
		parts, err := splitQualified(r.Column, 3)
		if err == nil && len(parts) < 2 {
			err = errors.New(`want "schema.table.column" or "table.column"`)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("in Columns[%d] %q: %w", i, r.Column, err))
			continue
		}
		if err := validType(r.Type); err != nil {
			errs = append(errs, fmt.Errorf("in Columns[%d] (%s): %w", i, r.Column, err))
		}
		rule := columnTypeRule{col: parts[len(parts)-1], typ: normalizeType(r.Type)}
		if len(parts) == 3 {
			rule.table = TablePattern{schema: parts[0], name: parts[1], src: r.Column}
		} else {
			rule.table = TablePattern{schema: namePattern{text: "*", glob: true}, name: parts[0], src: r.Column}
		}
		cols = append(cols, rule)
	}
	for i, r := range c.Natives {
		n := strings.ToLower(strings.TrimSpace(r.Native))
		if n == "" {
			errs = append(errs, fmt.Errorf("in Natives[%d]: Native is empty", i))
		}
		if err := validType(r.Type); err != nil {
			errs = append(errs, fmt.Errorf("in Natives[%d] (%s): %w", i, r.Native, err))
		}
		natives = append(natives, nativeTypeRule{native: namePattern{text: n, glob: strings.ContainsAny(n, "*?")}, typ: normalizeType(r.Type)})
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("transform: invalid type mapping: %w", errors.Join(errs...))
	}
	return cols, natives, nil
}

// normalizeType fills in the defaults of a target type: 64 bits for
// integers without Bits.
func normalizeType(t sluice.Type) sluice.Type {
	if (t.Kind == sluice.KindInt || t.Kind == sluice.KindUint) && t.Bits == 0 {
		t.Bits = 64
	}
	return t
}

// TypeMap is the type-override transform. Build it with NewTypeMap.
//
// Bind gives each overridden column the target neutral type and clears its
// Native text (the source's type text no longer describes the values, and
// a same-engine sink must not create the column with it); untouched columns
// keep theirs. A conversion the matrix does not allow fails Bind (so the
// pipeline's precheck reports it); a value an allowed conversion cannot
// represent (a 2 for a bool, a 300 for an 8-bit integer, text longer than
// the target length) fails Map with an error wrapping ErrConvert that names
// the table, the column and the value. Values are never silently altered.
type TypeMap struct {
	cols    []columnTypeRule
	natives []nativeTypeRule

	mu    sync.Mutex
	plans map[*sluice.Table]*typePlan
}

type colConv struct {
	i int
	f convFn
}

type typePlan struct {
	out   *sluice.Table
	convs []colConv
}

// NewTypeMap validates cfg and returns the transform.
func NewTypeMap(cfg TypeMapConfig) (*TypeMap, error) {
	cols, natives, err := newTypeRules(&cfg)
	if err != nil {
		return nil, err
	}
	return &TypeMap{cols: cols, natives: natives, plans: map[*sluice.Table]*typePlan{}}, nil
}

// Bind builds t's output version with the overridden types (the same
// pointer for the same t) and the per-column converters.
func (m *TypeMap) Bind(t *sluice.Table) (Mapper, error) {
	p, err := m.plan(t)
	if err != nil {
		return nil, err
	}
	return &typeMapper{m: m, p: p}, nil
}

func (m *TypeMap) plan(t *sluice.Table) (*typePlan, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.plans[t]; ok {
		return p, nil
	}
	p := &typePlan{out: t}
	var cols []sluice.Column
	for i, c := range t.Columns {
		to, ok := m.override(t.ID, c)
		if !ok || to.Equal(c.Type) {
			continue
		}
		f, err := converter(c.Type, to)
		if err != nil {
			return nil, fmt.Errorf("type override for column %q of table %s: cannot convert %s (native %q) to %s: %w (allowed conversions are listed in the transform package documentation)",
				c.Name, t.ID, c.Type, c.Native, to, err)
		}
		if cols == nil {
			cols = append([]sluice.Column(nil), t.Columns...)
		}
		cols[i].Type, cols[i].Native = to, ""
		p.convs = append(p.convs, colConv{i: i, f: f})
	}
	if cols != nil {
		out, err := sluice.NewTable(t.ID, cols, t.Key)
		if err != nil {
			return nil, fmt.Errorf("type override for table %s: %w", t.ID, err)
		}
		p.out = out
	}
	m.plans[t] = p
	return p, nil
}

func (m *TypeMap) override(id sluice.TableID, c sluice.Column) (sluice.Type, bool) {
	for _, r := range m.cols {
		if r.table.Match(id) && r.col.match(c.Name) {
			return r.typ, true
		}
	}
	if c.Native != "" {
		n := strings.ToLower(strings.TrimSpace(c.Native))
		for _, r := range m.natives {
			if r.native.match(n) {
				return r.typ, true
			}
		}
	}
	return sluice.Type{}, false
}

type typeMapper struct {
	m    *TypeMap
	p    *typePlan
	slab rowSlab
}

func (tm *typeMapper) Table() *sluice.Table { return tm.p.out }

func (tm *typeMapper) Map(c sluice.Change, out []sluice.Change) ([]sluice.Change, error) {
	if c.Op == sluice.OpSchema && c.OldTable != nil {
		old, err := tm.m.plan(c.OldTable)
		if err != nil {
			return out, err
		}
		c.OldTable = old.out
	}
	in := c.Table
	c.Table = tm.p.out
	var err error
	if c.Before != nil {
		if c.Before, err = tm.convert(in, c.Before); err != nil {
			return out, err
		}
	}
	if c.After != nil {
		if c.After, err = tm.convert(in, c.After); err != nil {
			return out, err
		}
	}
	return append(out, c), nil
}

func (tm *typeMapper) convert(in *sluice.Table, r sluice.Row) (sluice.Row, error) {
	var row sluice.Row
	for _, cc := range tm.p.convs {
		v := r[cc.i]
		if v == nil || sluice.IsUnchanged(v) {
			continue
		}
		nv, err := cc.f(v)
		if err != nil {
			col := tm.p.out.Columns[cc.i]
			return nil, fmt.Errorf("type override on table %s, column %q: value %s cannot become %s: %w", in.ID, col.Name, describeValue(v), col.Type, err)
		}
		if row == nil {
			row = tm.slab.alloc(len(r))
			copy(row, r)
		}
		row[cc.i] = nv
	}
	if row == nil {
		return r, nil
	}
	return row, nil
}

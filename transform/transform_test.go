package transform

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/transform/expr"
)

func ordersTable(t testing.TB, schema string) *sluice.Table {
	t.Helper()
	tb, err := sluice.NewTable(sluice.TableID{Schema: schema, Name: "orders"}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}, Native: "bigint(20)"},
		{Name: "amount", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}, Nullable: true, Native: "decimal(10,2)"},
		{Name: "status", Type: sluice.Type{Kind: sluice.KindString, Length: 20}, Native: "varchar(20)"},
		{Name: "secret", Type: sluice.Type{Kind: sluice.KindString}, Nullable: true, Native: "text"},
		{Name: "is_paid", Type: sluice.Type{Kind: sluice.KindInt, Bits: 8}, Nullable: true, Native: "tinyint(1)"},
	}, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func orderRow(id int64, amount string, status string) sluice.Row {
	var a any
	if amount != "" {
		a = sluice.Decimal(amount)
	}
	return sluice.Row{id, a, status, "s3cr3t", int64(1)}
}

func mapOne(t *testing.T, m Mapper, c sluice.Change) []sluice.Change {
	t.Helper()
	c.Table = boundTable(m, c.Table)
	out, err := m.Map(c, nil)
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	return out
}

// boundTable keeps the change's table (tests set it explicitly).
func boundTable(_ Mapper, t *sluice.Table) *sluice.Table { return t }

func mustBind(t *testing.T, tr Transform, tb *sluice.Table) Mapper {
	t.Helper()
	m, err := tr.Bind(tb)
	if err != nil {
		t.Fatalf("Bind(%s): %v", tb.ID, err)
	}
	return m
}

// SPEC T1: schema, table and column renames and column deselection.
func TestRenameColumnsAndTables(t *testing.T) {
	r, err := NewRename(RenameConfig{
		Schemas: []SchemaRule{{From: "shop", To: "public"}},
		Tables: []TableRule{{
			Match: "shop.orders", To: "purchases",
			Columns: map[string]string{"amount": "total", "status": "state"},
			Drop:    []string{"secret"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := ordersTable(t, "shop")
	m := mustBind(t, r, in)
	out := m.Table()
	if out.ID != (sluice.TableID{Schema: "public", Name: "purchases"}) {
		t.Fatalf("target %s", out.ID)
	}
	var names []string
	for _, c := range out.Columns {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "id,total,state,is_paid" || out.KeyNames()[0] != "id" {
		t.Fatalf("columns %v key %v", names, out.KeyNames())
	}
	if out.Columns[1].Native != "decimal(10,2)" || !out.Columns[1].Type.Equal(in.Columns[1].Type) {
		t.Errorf("types and natives must be kept: %+v", out.Columns[1])
	}
	// Binding again gives the same version.
	if m2 := mustBind(t, r, in); m2.Table() != out {
		t.Error("rebinding made a new table version")
	}
	before, after := orderRow(1, "5.00", "new"), orderRow(1, "7.00", "paid")
	got := mapOne(t, m, sluice.Change{Op: sluice.OpUpdate, Table: in, Before: before, After: after, Pos: sluice.Position("p"), Size: 9})
	if len(got) != 1 || got[0].Table != out || string(got[0].Pos) != "p" || got[0].Size != 9 {
		t.Fatalf("got %+v", got)
	}
	if want := (sluice.Row{int64(1), sluice.Decimal("7.00"), "paid", int64(1)}); !rowsEqual(got[0].After, want) {
		t.Errorf("after %v, want %v", got[0].After, want)
	}
	if before[3] != "s3cr3t" || len(before) != 5 {
		t.Error("the input row was modified")
	}
	// Other schemas keep their names; untouched tables keep their version.
	other := ordersTable(t, "crm")
	if m := mustBind(t, r, other); m.Table() != other {
		t.Errorf("untouched table got a new version %s", m.Table())
	}
}

func rowsEqual(a, b sluice.Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// SPEC T1: bad rules fail at construction or Bind, naming the problem.
func TestRenameErrors(t *testing.T) {
	if _, err := NewRename(RenameConfig{Tables: []TableRule{{Match: "a..b"}}}); err == nil {
		t.Error("bad pattern accepted")
	}
	if _, err := NewRename(RenameConfig{Tables: []TableRule{{Match: "a.b", Keep: []string{"x"}, Drop: []string{"y"}}}}); err == nil {
		t.Error("Keep and Drop accepted together")
	}
	if _, err := NewRename(RenameConfig{Tables: []TableRule{{Match: "a.b", Columns: map[string]string{"x": "z", "y": "z"}}}}); err == nil {
		t.Error("two columns renamed to one name accepted")
	}
	if _, err := NewRename(RenameConfig{Merges: []MergeRule{{From: []string{"a.*"}, To: "x.*"}}}); err == nil {
		t.Error("pattern as merge target accepted")
	}
	in := ordersTable(t, "shop")
	for name, cfg := range map[string]RenameConfig{
		"missing column":   {Tables: []TableRule{{Match: "shop.orders", Drop: []string{"nope"}}}},
		"drop key":         {Tables: []TableRule{{Match: "shop.orders", Drop: []string{"id"}}}},
		"keep without key": {Tables: []TableRule{{Match: "shop.orders", Keep: []string{"amount"}}}},
		"rename clash":     {Tables: []TableRule{{Match: "shop.orders", Columns: map[string]string{"amount": "status"}}}},
	} {
		r, err := NewRename(cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := r.Bind(in); err == nil || !strings.Contains(err.Error(), "shop.orders") {
			t.Errorf("%s: Bind error %v", name, err)
		}
	}
	r, _ := NewRename(RenameConfig{Tables: []TableRule{{Match: "shop.*", Drop: []string{"nope", "secret"}, IgnoreMissing: true}}})
	if m := mustBind(t, r, in); len(m.Table().Columns) != 4 {
		t.Error("IgnoreMissing did not drop the existing column")
	}
	// Two tables onto one target without a merge rule.
	r, _ = NewRename(RenameConfig{Schemas: []SchemaRule{{From: "shop_*", To: "public"}}})
	mustBind(t, r, ordersTable(t, "shop_01"))
	if _, err := r.Bind(ordersTable(t, "shop_02")); !errors.Is(err, ErrNameClash) {
		t.Errorf("clash: %v", err)
	}
}

// SPEC T1: shards merged into one target share one output version; an
// incompatible shard is refused; a source column can join the key.
func TestMerge(t *testing.T) {
	r, err := NewRename(RenameConfig{
		Tables: []TableRule{{Match: "shop_*.orders", Drop: []string{"secret"}}},
		Merges: []MergeRule{{From: []string{"shop_*.orders"}, To: "public.orders"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, b := ordersTable(t, "shop_01"), ordersTable(t, "shop_02")
	b.Columns[0].Native = "bigint(11)" // natives may differ
	ma, mb := mustBind(t, r, a), mustBind(t, r, b)
	if ma.Table() != mb.Table() {
		t.Fatal("same-shape shards got different output versions")
	}
	if ma.Table().ID != (sluice.TableID{Schema: "public", Name: "orders"}) {
		t.Fatalf("target %s", ma.Table().ID)
	}
	// Truncate and drop of one shard are not forwarded; other DDL is.
	if got := mapOne(t, ma, sluice.Change{Op: sluice.OpTruncate, Table: a}); len(got) != 0 {
		t.Error("shard truncate forwarded")
	}
	if got := mapOne(t, ma, sluice.Change{Op: sluice.OpSchema, Table: a, Dropped: true}); len(got) != 0 {
		t.Error("shard drop forwarded")
	}
	// A rolling ADD COLUMN: the new shape is a new version, compatible.
	a2, _ := sluice.NewTable(a.ID, append(append([]sluice.Column(nil), a.Columns...), sluice.Column{Name: "note", Type: sluice.Type{Kind: sluice.KindString}, Nullable: true}), a.Key)
	ma2 := mustBind(t, r, a2)
	if ma2.Table() == ma.Table() || len(ma2.Table().Columns) != 5 {
		t.Fatal("new shape must be a new version")
	}
	got := mapOne(t, ma2, sluice.Change{Op: sluice.OpSchema, Table: a2, OldTable: a})
	if len(got) != 1 || got[0].OldTable != ma.Table() || got[0].Table != ma2.Table() {
		t.Errorf("schema change not mapped: %+v", got)
	}
	b2, _ := sluice.NewTable(b.ID, append(append([]sluice.Column(nil), b.Columns...), sluice.Column{Name: "note", Type: sluice.Type{Kind: sluice.KindString}, Nullable: true}), b.Key)
	if mustBind(t, r, b2).Table() != ma2.Table() {
		t.Error("second shard catching up must reuse the version")
	}
	// Incompatible: a shared column of another kind.
	c := ordersTable(t, "shop_03")
	c.Columns[2].Type = sluice.Type{Kind: sluice.KindInt, Bits: 32}
	if _, err := r.Bind(c); !errors.Is(err, ErrIncompatibleMerge) {
		t.Errorf("incompatible shard: %v", err)
	}
	// Incompatible: another key.
	d, _ := sluice.NewTable(sluice.TableID{Schema: "shop_04", Name: "orders"}, ordersTable(t, "x").Columns, []int{0, 2})
	if _, err := r.Bind(d); !errors.Is(err, ErrIncompatibleMerge) {
		t.Errorf("other key: %v", err)
	}

	// SourceColumn in the key.
	r, _ = NewRename(RenameConfig{Merges: []MergeRule{{From: []string{"shop_01.orders", "shop_02.orders"}, To: "public.orders", SourceColumn: "shard", SourceInKey: true}}})
	ma, mb = mustBind(t, r, a), mustBind(t, r, b)
	out := ma.Table()
	if out != mb.Table() || strings.Join(out.KeyNames(), ",") != "shard,id" {
		t.Fatalf("key %v", out.KeyNames())
	}
	g := mapOne(t, mb, sluice.Change{Op: sluice.OpInsert, Table: b, After: orderRow(1, "1.00", "new")})
	if v := g[0].After[len(g[0].After)-1]; v != "shop_02.orders" {
		t.Errorf("source column %v", v)
	}
}

// SPEC T1: renaming without deselection passes rows through untouched (no
// allocation); deselection builds rows from a slab.
func TestRenameAllocations(t *testing.T) {
	in := ordersTable(t, "shop")
	r, _ := NewRename(RenameConfig{Schemas: []SchemaRule{{From: "shop", To: "public"}}, Tables: []TableRule{{Match: "shop.orders", Columns: map[string]string{"amount": "total"}}}})
	m := mustBind(t, r, in)
	c := sluice.Change{Op: sluice.OpInsert, Table: in, After: orderRow(1, "1.00", "new")}
	buf := make([]sluice.Change, 0, 4)
	if n := testing.AllocsPerRun(1000, func() { buf, _ = m.Map(c, buf[:0]) }); n != 0 {
		t.Errorf("rename: %v allocs per change, want 0", n)
	}
	if &buf[0].After[0] != &c.After[0] {
		t.Error("identity rename copied the row")
	}
	r, _ = NewRename(RenameConfig{Tables: []TableRule{{Match: "shop.orders", Drop: []string{"secret"}}}})
	m = mustBind(t, r, in)
	if n := testing.AllocsPerRun(1000, func() { buf, _ = m.Map(c, buf[:0]) }); n > 0.05 {
		t.Errorf("deselection: %v allocs per change, want amortized < 0.05", n)
	}
	// Slab rows are independent.
	x, _ := m.Map(c, nil)
	y, _ := m.Map(sluice.Change{Op: sluice.OpInsert, Table: in, After: orderRow(2, "2.00", "paid")}, nil)
	_ = append(x[0].After, "extra")
	if y[0].After[0] != int64(2) || x[0].After[0] != int64(1) || cap(x[0].After) != 4 {
		t.Error("slab rows overlap")
	}
}

func bindFilter(t *testing.T, where string, tb *sluice.Table) Mapper {
	t.Helper()
	f, err := NewFilter(FilterConfig{Rules: []FilterRule{{Table: "*.orders", Where: where}}})
	if err != nil {
		t.Fatal(err)
	}
	return mustBind(t, f, tb)
}

// SPEC T2: updates moving rows into the filter become inserts, out of it
// deletes; snapshot reads and inserts are filtered alike.
func TestFilterMoves(t *testing.T) {
	in := ordersTable(t, "shop")
	m := bindFilter(t, "amount > 100 AND status IN ('paid', 'shipped')", in)
	if m.Table() != in {
		t.Fatal("a filter must not make a new version")
	}
	ts := time.Unix(1700000000, 0)
	cases := []struct {
		name          string
		c             sluice.Change
		wantOp        sluice.Op
		before, after bool // expected presence
		dropped       bool
	}{
		{"read in", sluice.Change{Op: sluice.OpRead, After: orderRow(1, "150.00", "paid")}, sluice.OpRead, false, true, false},
		{"read out", sluice.Change{Op: sluice.OpRead, After: orderRow(1, "50.00", "paid")}, 0, false, false, true},
		{"read null", sluice.Change{Op: sluice.OpRead, After: orderRow(1, "", "paid")}, 0, false, false, true},
		{"insert in", sluice.Change{Op: sluice.OpInsert, After: orderRow(1, "150.00", "shipped")}, sluice.OpInsert, false, true, false},
		{"insert out", sluice.Change{Op: sluice.OpInsert, After: orderRow(1, "150.00", "new")}, 0, false, false, true},
		{"delete in", sluice.Change{Op: sluice.OpDelete, Before: orderRow(1, "150.00", "paid")}, sluice.OpDelete, true, false, false},
		{"delete out", sluice.Change{Op: sluice.OpDelete, Before: orderRow(1, "1.00", "paid")}, 0, false, false, true},
		{"update in→in", sluice.Change{Op: sluice.OpUpdate, Before: orderRow(1, "150.00", "paid"), After: orderRow(1, "160.00", "shipped")}, sluice.OpUpdate, true, true, false},
		{"update out→in", sluice.Change{Op: sluice.OpUpdate, Before: orderRow(1, "150.00", "new"), After: orderRow(1, "150.00", "paid")}, sluice.OpInsert, false, true, false},
		{"update in→out", sluice.Change{Op: sluice.OpUpdate, Before: orderRow(1, "150.00", "paid"), After: orderRow(1, "99.99", "paid")}, sluice.OpDelete, true, false, false},
		{"update null→in", sluice.Change{Op: sluice.OpUpdate, Before: orderRow(1, "", "paid"), After: orderRow(1, "101", "paid")}, sluice.OpInsert, false, true, false},
		{"update out→out", sluice.Change{Op: sluice.OpUpdate, Before: orderRow(1, "1", "paid"), After: orderRow(1, "2", "paid")}, 0, false, false, true},
		{"truncate", sluice.Change{Op: sluice.OpTruncate}, sluice.OpTruncate, false, false, false},
		{"schema", sluice.Change{Op: sluice.OpSchema}, sluice.OpSchema, false, false, false},
	}
	for _, c := range cases {
		c.c.Table, c.c.Pos, c.c.Time, c.c.Size = in, sluice.Position("pos"), ts, 42
		got := mapOne(t, m, c.c)
		if c.dropped {
			if len(got) != 0 {
				t.Errorf("%s: not dropped: %+v", c.name, got)
			}
			continue
		}
		if len(got) != 1 {
			t.Fatalf("%s: got %d changes", c.name, len(got))
		}
		g := got[0]
		if g.Op != c.wantOp || (g.Before != nil) != c.before || (g.After != nil) != c.after {
			t.Errorf("%s: got op %s before %v after %v", c.name, g.Op, g.Before != nil, g.After != nil)
		}
		if string(g.Pos) != "pos" || !g.Time.Equal(ts) || g.Size != 42 {
			t.Errorf("%s: position, time or size lost", c.name)
		}
	}
}

// SPEC T2: invalid filters fail when built (syntax) or bound (columns,
// types), with the position.
func TestFilterErrors(t *testing.T) {
	_, err := NewFilter(FilterConfig{Rules: []FilterRule{{Table: "shop.orders", Where: "amount >"}}})
	var ee *expr.Error
	if !errors.As(err, &ee) || ee.Pos != 8 || !errors.Is(err, expr.ErrSyntax) {
		t.Errorf("syntax error: %v", err)
	}
	f, err := NewFilter(FilterConfig{Rules: []FilterRule{{Table: "shop.orders", Where: "amount > 'abc'"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Bind(ordersTable(t, "shop"))
	if !errors.As(err, &ee) || !errors.Is(err, expr.ErrType) || ee.Column != "amount" || !strings.Contains(err.Error(), "shop.orders") {
		t.Errorf("type error: %v", err)
	}
	// Unmatched tables pass untouched.
	if m := mustBind(t, f, ordersTable(t, "crm")); len(mapOne(t, m, sluice.Change{Op: sluice.OpInsert, Table: m.Table(), After: orderRow(1, "1", "x")})) != 1 {
		t.Error("unmatched table filtered")
	}
}

// Unchanged (TOAST) values: an update moving in takes them from Before.
func TestFilterUnchanged(t *testing.T) {
	in := ordersTable(t, "shop")
	m := bindFilter(t, "status = 'paid'", in)
	before := orderRow(1, "1.00", "new")
	after := orderRow(1, "1.00", "paid")
	after[3] = sluice.Unchanged
	got := mapOne(t, m, sluice.Change{Op: sluice.OpUpdate, Table: in, Before: before, After: after})
	if len(got) != 1 || got[0].Op != sluice.OpInsert || got[0].After[3] != "s3cr3t" {
		t.Fatalf("got %+v", got)
	}
	if !sluice.IsUnchanged(after[3]) {
		t.Error("input row modified")
	}
	// No before-image: kept as update when in, delete by key when out.
	got = mapOne(t, m, sluice.Change{Op: sluice.OpUpdate, Table: in, After: after})
	if len(got) != 1 || got[0].Op != sluice.OpUpdate {
		t.Errorf("no before, in: %+v", got)
	}
	out := orderRow(1, "1.00", "new")
	out[3] = sluice.Unchanged
	got = mapOne(t, m, sluice.Change{Op: sluice.OpUpdate, Table: in, After: out})
	if len(got) != 1 || got[0].Op != sluice.OpDelete || got[0].Before[0] != int64(1) || sluice.IsUnchanged(got[0].Before[3]) {
		t.Errorf("no before, out: %+v", got)
	}
	// Filtering on a column the source did not send, without a before-image.
	m2 := bindFilter(t, "secret = 'x'", in)
	if _, err := m2.Map(sluice.Change{Op: sluice.OpUpdate, Table: in, After: after}, nil); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("want an error naming the column, got %v", err)
	}
}

// SPEC T3: operation selection.
func TestOps(t *testing.T) {
	if _, err := NewOps(OpsConfig{}); err == nil {
		t.Error("empty Allow accepted")
	}
	if _, err := NewOps(OpsConfig{Allow: []sluice.Op{99}}); err == nil {
		t.Error("bad op accepted")
	}
	o, err := NewOps(OpsConfig{Allow: []sluice.Op{sluice.OpInsert, sluice.OpUpdate}, Tables: []string{"shop.*"}})
	if err != nil {
		t.Fatal(err)
	}
	in := ordersTable(t, "shop")
	m := mustBind(t, o, in)
	for op, pass := range map[sluice.Op]bool{
		sluice.OpRead: true, sluice.OpInsert: true, sluice.OpUpdate: true, sluice.OpDelete: false,
		sluice.OpTruncate: false, sluice.OpSchema: false, sluice.OpHeartbeat: true,
	} {
		got := mapOne(t, m, sluice.Change{Op: op, Table: in})
		if (len(got) == 1) != pass {
			t.Errorf("%s: passed=%v, want %v", op, len(got) == 1, pass)
		}
	}
	// Other tables pass everything.
	crm := ordersTable(t, "crm")
	if got := mapOne(t, mustBind(t, o, crm), sluice.Change{Op: sluice.OpDelete, Table: crm}); len(got) != 1 {
		t.Error("unselected table filtered")
	}
}

// SPEC T4: per-column and per-native overrides; Bind refuses impossible
// conversions; Map refuses values that do not fit.
func TestTypeMap(t *testing.T) {
	in := ordersTable(t, "shop")
	tm, err := NewTypeMap(TypeMapConfig{
		Natives: []NativeType{{Native: "TINYINT(1)", Type: sluice.Type{Kind: sluice.KindBool}}},
		Columns: []ColumnType{{Column: "shop.orders.amount", Type: sluice.Type{Kind: sluice.KindString, Length: 12}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := mustBind(t, tm, in)
	out := m.Table()
	if out.Columns[4].Type.Kind != sluice.KindBool || out.Columns[4].Native != "" || out.Columns[1].Type.Kind != sluice.KindString {
		t.Fatalf("types not overridden: %s", out)
	}
	if out.Columns[0].Native != "bigint(20)" {
		t.Error("untouched column lost its native type")
	}
	if mustBind(t, tm, in).Table() != out {
		t.Error("rebinding made a new version")
	}
	got := mapOne(t, m, sluice.Change{Op: sluice.OpInsert, Table: in, After: orderRow(1, "12.50", "new")})
	if got[0].After[4] != true || got[0].After[1] != "12.50" || got[0].Table != out {
		t.Errorf("converted row %v", got[0].After)
	}
	bad := orderRow(2, "1.00", "new")
	bad[4] = int64(2)
	_, err = m.Map(sluice.Change{Op: sluice.OpInsert, Table: in, After: bad}, nil)
	if !errors.Is(err, ErrConvert) || !strings.Contains(err.Error(), "is_paid") || !strings.Contains(err.Error(), "shop.orders") || !strings.Contains(err.Error(), `"2"`) {
		t.Errorf("runtime conversion error: %v", err)
	}
	// NULL passes.
	nul := orderRow(3, "", "new")
	nul[4] = nil
	if got := mapOne(t, m, sluice.Change{Op: sluice.OpInsert, Table: in, After: nul}); got[0].After[4] != nil || got[0].After[1] != nil {
		t.Error("NULL converted")
	}
	// text → integer is refused at Bind.
	tm2, _ := NewTypeMap(TypeMapConfig{Columns: []ColumnType{{Column: "orders.status", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}}}})
	if _, err := tm2.Bind(in); !errors.Is(err, ErrNoConversion) || !strings.Contains(err.Error(), "status") {
		t.Errorf("string → int: %v", err)
	}
	if _, err := NewTypeMap(TypeMapConfig{Columns: []ColumnType{{Column: "status", Type: sluice.Type{Kind: sluice.KindBool}}}}); err == nil {
		t.Error("column without table accepted")
	}
	if _, err := NewTypeMap(TypeMapConfig{Natives: []NativeType{{Native: "x", Type: sluice.Type{Kind: sluice.KindDecimal}}}}); err == nil {
		t.Error("decimal without precision accepted")
	}
}

// SPEC T4: the conversion matrix at work on values.
func TestConversions(t *testing.T) {
	ty := func(k sluice.Kind) sluice.Type { return sluice.Type{Kind: k} }
	cases := []struct {
		from, to sluice.Type
		in, want any
		fail     bool
	}{
		{ty(sluice.KindInt), ty(sluice.KindBool), int64(0), false, false},
		{ty(sluice.KindInt), ty(sluice.KindBool), int64(-1), nil, true},
		{sluice.Type{Kind: sluice.KindInt, Bits: 64}, sluice.Type{Kind: sluice.KindInt, Bits: 8}, int64(200), nil, true},
		{sluice.Type{Kind: sluice.KindInt, Bits: 64}, sluice.Type{Kind: sluice.KindUint, Bits: 64}, int64(-1), nil, true},
		{sluice.Type{Kind: sluice.KindUint, Bits: 64}, sluice.Type{Kind: sluice.KindInt, Bits: 64}, uint64(1 << 63), nil, true},
		{sluice.Type{Kind: sluice.KindUint, Bits: 64}, sluice.Type{Kind: sluice.KindInt, Bits: 64}, uint64(5), int64(5), false},
		{sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}, sluice.Type{Kind: sluice.KindInt, Bits: 64}, sluice.Decimal("-12.00"), int64(-12), false},
		{sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}, sluice.Type{Kind: sluice.KindInt, Bits: 64}, sluice.Decimal("12.50"), nil, true},
		{sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}, sluice.Type{Kind: sluice.KindDecimal, Precision: 12, Scale: 4}, sluice.Decimal("-12.50"), sluice.Decimal("-12.5000"), false},
		{sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 4}, sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}, sluice.Decimal("1.2345"), nil, true},
		{sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 4}, sluice.Type{Kind: sluice.KindDecimal, Precision: 3, Scale: 2}, sluice.Decimal("10.0000"), nil, true},
		{sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}, ty(sluice.KindFloat64), sluice.Decimal("0.10"), 0.1, false},
		{ty(sluice.KindInt), ty(sluice.KindFloat64), int64(1 << 54), nil, true},
		{ty(sluice.KindInt), sluice.Type{Kind: sluice.KindDecimal, Precision: 5, Scale: 1}, int64(-42), sluice.Decimal("-42.0"), false},
		{ty(sluice.KindFloat64), sluice.Type{Kind: sluice.KindDecimal, Precision: 5, Scale: 2}, 0.5, sluice.Decimal("0.50"), false},
		{ty(sluice.KindFloat64), sluice.Type{Kind: sluice.KindDecimal, Precision: 5, Scale: 2}, 0.125, nil, true},
		{ty(sluice.KindDateTime), ty(sluice.KindString), time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), "2024-01-02 03:04:05.000006", false},
		{ty(sluice.KindTime), ty(sluice.KindString), -(90*time.Minute + 1500*time.Millisecond), "-01:30:01.5", false},
		{ty(sluice.KindDate), ty(sluice.KindTimestamp), sluice.Date{Year: 2024, Month: 2, Day: 29}, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), false},
		{ty(sluice.KindDate), ty(sluice.KindTimestamp), sluice.Date{}, nil, true},
		{ty(sluice.KindDateTime), ty(sluice.KindDate), time.Date(2024, 1, 2, 3, 0, 0, 0, time.UTC), nil, true},
		{sluice.Type{Kind: sluice.KindDateTime, Scale: 6}, ty(sluice.KindDateTime), time.Date(2024, 1, 2, 3, 0, 0, 1000, time.UTC), nil, true},
		{ty(sluice.KindString), ty(sluice.KindJSON), `{ "a" : 1 }`, `{"a":1}`, false},
		{ty(sluice.KindString), ty(sluice.KindJSON), `{`, nil, true},
		{ty(sluice.KindString), ty(sluice.KindUUID), "0E5B4D1C-6C1F-4F3A-9A51-2C1E0F8A7B6D", "0e5b4d1c-6c1f-4f3a-9a51-2c1e0f8a7b6d", false},
		{ty(sluice.KindBytes), ty(sluice.KindUUID), []byte{0x0e, 0x5b, 0x4d, 0x1c, 0x6c, 0x1f, 0x4f, 0x3a, 0x9a, 0x51, 0x2c, 0x1e, 0x0f, 0x8a, 0x7b, 0x6d}, "0e5b4d1c-6c1f-4f3a-9a51-2c1e0f8a7b6d", false},
		{ty(sluice.KindBytes), ty(sluice.KindString), []byte{0xff}, nil, true},
		{ty(sluice.KindString), sluice.Type{Kind: sluice.KindString, Length: 3}, "über", nil, true},
		{ty(sluice.KindString), sluice.Type{Kind: sluice.KindString, Length: 4}, "über", "über", false},
		{ty(sluice.KindString), sluice.Type{Kind: sluice.KindEnum, Members: []string{"a", "b"}}, "c", nil, true},
		{ty(sluice.KindInt), ty(sluice.KindYear), int64(1900), nil, true},
		{ty(sluice.KindUint), sluice.Type{Kind: sluice.KindBit, Length: 3}, uint64(8), nil, true},
		{ty(sluice.KindBool), ty(sluice.KindInt), true, int64(1), false},
	}
	for _, c := range cases {
		f, err := converter(c.from, c.to)
		if err != nil {
			t.Errorf("%s → %s: %v", c.from, c.to, err)
			continue
		}
		got, err := f(c.in)
		if c.fail {
			if !errors.Is(err, ErrConvert) {
				t.Errorf("%s → %s of %v: got %v, %v; want ErrConvert", c.from, c.to, c.in, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s → %s of %v: %v", c.from, c.to, c.in, err)
			continue
		}
		if j, ok := got.(sluice.JSON); ok {
			got = string(j)
		}
		if tt, ok := got.(time.Time); ok {
			if !tt.Equal(c.want.(time.Time)) || tt.Location() != time.UTC {
				t.Errorf("%s → %s of %v = %v, want %v", c.from, c.to, c.in, got, c.want)
			}
			continue
		}
		if got != c.want {
			t.Errorf("%s → %s of %v = %#v, want %#v", c.from, c.to, c.in, got, c.want)
		}
	}
	for _, no := range [][2]sluice.Kind{{sluice.KindString, sluice.KindInt}, {sluice.KindJSON, sluice.KindInt}, {sluice.KindDate, sluice.KindInt}, {sluice.KindGeometry, sluice.KindString}} {
		if _, err := converter(sluice.Type{Kind: no[0]}, sluice.Type{Kind: no[1]}); !errors.Is(err, ErrNoConversion) {
			t.Errorf("%s → %s allowed", no[0], no[1])
		}
	}
}

// Chain composes binds and maps: rename, then a filter naming the renamed
// columns, then op selection; the same output version for merged shards.
func TestChain(t *testing.T) {
	r, _ := NewRename(RenameConfig{
		Tables: []TableRule{{Match: "shop_*.orders", Columns: map[string]string{"amount": "total"}, Drop: []string{"secret"}}},
		Merges: []MergeRule{{From: []string{"shop_*.orders"}, To: "public.orders"}},
	})
	f, _ := NewFilter(FilterConfig{Rules: []FilterRule{{Table: "public.orders", Where: "total >= 10"}}})
	o, _ := NewOps(OpsConfig{Allow: []sluice.Op{sluice.OpInsert, sluice.OpUpdate}})
	tm, _ := NewTypeMap(TypeMapConfig{Natives: []NativeType{{Native: "tinyint(1)", Type: sluice.Type{Kind: sluice.KindBool}}}})
	ch := Chain(r, f, o, tm)
	a, b := ordersTable(t, "shop_01"), ordersTable(t, "shop_02")
	ma, mb := mustBind(t, ch, a), mustBind(t, ch, b)
	if ma.Table() != mb.Table() || ma.Table().Columns[3].Type.Kind != sluice.KindBool {
		t.Fatalf("chain output %s vs %s", ma.Table(), mb.Table())
	}
	got := mapOne(t, ma, sluice.Change{Op: sluice.OpUpdate, Table: a, Before: orderRow(1, "20.00", "x"), After: orderRow(1, "5.00", "x")})
	if len(got) != 0 { // moved out of the filter → delete → not selected
		t.Errorf("delete should be dropped by op selection: %+v", got)
	}
	got = mapOne(t, mb, sluice.Change{Op: sluice.OpUpdate, Table: b, Before: orderRow(1, "5.00", "x"), After: orderRow(1, "50.00", "x")})
	if len(got) != 1 || got[0].Op != sluice.OpInsert || got[0].Table != ma.Table() || got[0].After[3] != true {
		t.Errorf("got %+v", got)
	}
	buf := make([]sluice.Change, 0, 4)
	c := sluice.Change{Op: sluice.OpInsert, Table: a, After: orderRow(1, "50.00", "x")}
	ch2 := Chain(f, o)
	m2 := mustBind(t, ch2, ma.Table())
	c2 := sluice.Change{Op: sluice.OpInsert, Table: ma.Table(), After: sluice.Row{int64(1), sluice.Decimal("50.00"), "x", true}}
	if n := testing.AllocsPerRun(1000, func() { buf, _ = m2.Map(c2, buf[:0]) }); n != 0 {
		t.Errorf("chain of filter and ops: %v allocs per change", n)
	}
	_ = c
}

func TestTablePattern(t *testing.T) {
	cases := []struct {
		pat    string
		schema string
		name   string
		want   bool
	}{
		{"shop.orders", "shop", "orders", true}, {"shop.orders", "shop", "orders2", false},
		{"shop_*.orders", "shop_01", "orders", true}, {"shop_*.orders", "shop", "orders", false},
		{"shop_??.orders", "shop_01", "orders", true}, {"*.orders", "x", "orders", true}, {"orders", "any", "orders", true},
		{`"my.db".orders`, "my.db", "orders", true}, {"`a``b`.*", "a`b", "t", true}, {`"x*".y`, "x*", "y", true},
		{`"x*".y`, "xa", "y", false}, {"shop.*", "shop", "ü", true}, {"ü*.t", "üb", "t", true},
	}
	for _, c := range cases {
		p, err := ParseTablePattern(c.pat)
		if err != nil {
			t.Fatalf("%s: %v", c.pat, err)
		}
		if got := p.Match(sluice.TableID{Schema: c.schema, Name: c.name}); got != c.want {
			t.Errorf("%s on %s.%s = %v", c.pat, c.schema, c.name, got)
		}
	}
	for _, bad := range []string{"", ".", "a.", ".b", "a.b.c", `"a`, `""`, "a.b.", `"a"x`} {
		if _, err := ParseTablePattern(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

package mysql_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/source/mysql"
)

type colCase struct {
	name, typ string
	sql       [2]string
	want      [2]any
	kind      sluice.Kind
}

func wkbPoint(x, y float64) sluice.Geometry {
	b := []byte{1, 1, 0, 0, 0}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(y))
	return b
}

func fidelityColumns() []colCase {
	ts := func(s string) time.Time { // a wall clock at the session zone -07:00
		t, err := time.ParseInLocation("2006-01-02 15:04:05.999999", s, time.FixedZone("", -7*3600))
		if err != nil {
			panic(err)
		}
		return t.UTC()
	}
	dt := func(s string) time.Time {
		t, err := time.ParseInLocation("2006-01-02 15:04:05.999999", s, time.UTC)
		if err != nil {
			panic(err)
		}
		return t
	}
	big := strings.Repeat("xy", 35000)
	cols := []colCase{
		{"ti", "TINYINT", [2]string{"-128", "127"}, [2]any{int64(-128), int64(127)}, sluice.KindInt},
		{"tiu", "TINYINT UNSIGNED", [2]string{"0", "255"}, [2]any{uint64(0), uint64(255)}, sluice.KindUint},
		{"si", "SMALLINT", [2]string{"-32768", "32767"}, [2]any{int64(-32768), int64(32767)}, sluice.KindInt},
		{"siu", "SMALLINT UNSIGNED", [2]string{"0", "65535"}, [2]any{uint64(0), uint64(65535)}, sluice.KindUint},
		{"mi", "MEDIUMINT", [2]string{"-8388608", "8388607"}, [2]any{int64(-8388608), int64(8388607)}, sluice.KindInt},
		{"miu", "MEDIUMINT UNSIGNED", [2]string{"0", "16777215"}, [2]any{uint64(0), uint64(16777215)}, sluice.KindUint},
		{"i", "INT", [2]string{"-2147483648", "2147483647"}, [2]any{int64(math.MinInt32), int64(math.MaxInt32)}, sluice.KindInt},
		{"iu", "INT UNSIGNED", [2]string{"0", "4294967295"}, [2]any{uint64(0), uint64(math.MaxUint32)}, sluice.KindUint},
		{"bi", "BIGINT", [2]string{"-9223372036854775808", "9223372036854775807"}, [2]any{int64(math.MinInt64), int64(math.MaxInt64)}, sluice.KindInt},
		{"biu", "BIGINT UNSIGNED", [2]string{"0", "18446744073709551615"}, [2]any{uint64(0), uint64(math.MaxUint64)}, sluice.KindUint},
		{"b1", "TINYINT(1)", [2]string{"1", "0"}, [2]any{int64(1), int64(0)}, sluice.KindInt},
		{"d65", "DECIMAL(65,30)", [2]string{"-99999999999999999999999999999999999.999999999999999999999999999999", "12345678901234567890123456789012345.000000000000000000000000000001"},
			[2]any{sluice.Decimal("-99999999999999999999999999999999999.999999999999999999999999999999"), sluice.Decimal("12345678901234567890123456789012345.000000000000000000000000000001")}, sluice.KindDecimal},
		{"d52", "DECIMAL(5,2)", [2]string{"-0.5", "123.4"}, [2]any{sluice.Decimal("-0.50"), sluice.Decimal("123.40")}, sluice.KindDecimal},
		{"d0", "DECIMAL(20,0)", [2]string{"-12345678901234567890", "0"}, [2]any{sluice.Decimal("-12345678901234567890"), sluice.Decimal("0")}, sluice.KindDecimal},
		{"f", "FLOAT", [2]string{"3.40282e38", "0.1"}, [2]any{float32(3.40282e38), float32(0.1)}, sluice.KindFloat32},
		{"f2", "FLOAT", [2]string{"1.17549435e-38", "-16777217"}, [2]any{float32(1.17549435e-38), float32(-16777216)}, sluice.KindFloat32},
		{"dbl", "DOUBLE", [2]string{"1.7976931348623157e308", "-2.2250738585072014e-308"}, [2]any{math.MaxFloat64, -2.2250738585072014e-308}, sluice.KindFloat64},
		{"dbl2", "DOUBLE", [2]string{"0.1", "-0"}, [2]any{0.1, 0.0}, sluice.KindFloat64},
		{"bit1", "BIT(1)", [2]string{"b'1'", "b'0'"}, [2]any{uint64(1), uint64(0)}, sluice.KindBit},
		{"bit64", "BIT(64)", [2]string{"x'FFFFFFFFFFFFFFFF'", "x'8000000000000001'"}, [2]any{uint64(math.MaxUint64), uint64(0x8000000000000001)}, sluice.KindBit},
		{"bit12", "BIT(12)", [2]string{"b'101010101010'", "b'1'"}, [2]any{uint64(0xAAA), uint64(1)}, sluice.KindBit},
		{"vc", "VARCHAR(20) CHARACTER SET utf8mb4", [2]string{"'héllo 😀'", "''"}, [2]any{"héllo 😀", ""}, sluice.KindString},
		{"l1", "VARCHAR(20) CHARACTER SET latin1", [2]string{"'café € ‰'", "'Ñandú'"}, [2]any{"café € ‰", "Ñandú"}, sluice.KindString},
		{"ch", "CHAR(5)", [2]string{"'ab'", "'abcde'"}, [2]any{"ab", "abcde"}, sluice.KindString},
		{"txt", "MEDIUMTEXT", [2]string{"'日本語テキスト'", "REPEAT('é', 40000)"}, [2]any{"日本語テキスト", strings.Repeat("é", 40000)}, sluice.KindString},
		{"ltxt", "TEXT CHARACTER SET latin1", [2]string{"'Grüße'", "''"}, [2]any{"Grüße", ""}, sluice.KindString},
		{"bn", "BINARY(4)", [2]string{"x'0102'", "x'00000000'"}, [2]any{[]byte{1, 2, 0, 0}, []byte{0, 0, 0, 0}}, sluice.KindBytes},
		{"vb", "VARBINARY(10)", [2]string{"x'00ff00'", "''"}, [2]any{[]byte{0, 0xff, 0}, []byte{}}, sluice.KindBytes},
		{"bl", "LONGBLOB", [2]string{"REPEAT('xy', 35000)", "x'00'"}, [2]any{[]byte(big), []byte{0}}, sluice.KindBytes},
		{"dd", "DATE", [2]string{"'1000-01-01'", "'9999-12-31'"}, [2]any{sluice.Date{Year: 1000, Month: 1, Day: 1}, sluice.Date{Year: 9999, Month: 12, Day: 31}}, sluice.KindDate},
		{"dz", "DATE", [2]string{"'0000-00-00'", "'2024-02-29'"}, [2]any{nil, sluice.Date{Year: 2024, Month: 2, Day: 29}}, sluice.KindDate},
		{"tm", "TIME", [2]string{"'-838:59:59'", "'838:59:59'"}, [2]any{-(838*time.Hour + 59*time.Minute + 59*time.Second), 838*time.Hour + 59*time.Minute + 59*time.Second}, sluice.KindTime},
		{"tm3", "TIME(3)", [2]string{"'-00:00:00.001'", "'25:30:00.5'"}, [2]any{-time.Millisecond, 25*time.Hour + 30*time.Minute + 500*time.Millisecond}, sluice.KindTime},
		{"tm6", "TIME(6)", [2]string{"'-12:00:01.000001'", "'00:00:00'"}, [2]any{-(12*time.Hour + time.Second + time.Microsecond), time.Duration(0)}, sluice.KindTime},
		{"dtz", "DATETIME", [2]string{"'0000-00-00 00:00:00'", "'1000-01-01 00:00:00'"}, [2]any{nil, dt("1000-01-01 00:00:00")}, sluice.KindDateTime},
		{"tsz", "TIMESTAMP NULL", [2]string{"'0000-00-00 00:00:00'", "'1969-12-31 17:00:01'"}, [2]any{nil, ts("1969-12-31 17:00:01")}, sluice.KindTimestamp},
		{"yr", "YEAR", [2]string{"1901", "2155"}, [2]any{int64(1901), int64(2155)}, sluice.KindYear},
		{"yr0", "YEAR", [2]string{"0000", "2024"}, [2]any{int64(0), int64(2024)}, sluice.KindYear},
		{"en", "ENUM('a','b','c d','é')", [2]string{"'a'", "'é'"}, [2]any{"a", "é"}, sluice.KindEnum},
		{"st", "SET('x','y','z')", [2]string{"'x,z'", "''"}, [2]any{"x,z", ""}, sluice.KindSet},
		{"js", "JSON", [2]string{`'{"a": [1, 2.5, "x"], "b" : null, "c": "😀"}'`, "'[]'"}, [2]any{sluice.JSON(`{"a":[1,2.5,"x"],"b":null,"c":"😀"}`), sluice.JSON(`[]`)}, sluice.KindJSON},
		{"geo", "GEOMETRY", [2]string{"ST_GeomFromText('POINT(1 2)')", "ST_GeomFromText('POINT(-1.5 1e10)')"}, [2]any{wkbPoint(1, 2), wkbPoint(-1.5, 1e10)}, sluice.KindGeometry},
		{"geo4326", "POINT REF_SYSTEM_ID=4326", [2]string{"ST_GeomFromText('POINT(10 20)', 4326)", "NULL"}, [2]any{wkbPoint(10, 20), nil}, sluice.KindGeometry},
	}
	frac := "123456"
	for fsp := 0; fsp <= 6; fsp++ {
		suffix := ""
		if fsp > 0 {
			suffix = "." + frac[:fsp]
		}
		cols = append(cols,
			colCase{fmt.Sprintf("dt%d", fsp), fmt.Sprintf("DATETIME(%d)", fsp),
				[2]string{"'2024-02-29 12:34:56" + suffix + "'", "'9999-12-31 23:59:59" + suffix + "'"},
				[2]any{dt("2024-02-29 12:34:56" + suffix), dt("9999-12-31 23:59:59" + suffix)}, sluice.KindDateTime},
			colCase{fmt.Sprintf("ts%d", fsp), fmt.Sprintf("TIMESTAMP(%d) NULL", fsp),
				[2]string{"'2038-01-18 20:14:07" + suffix + "'", "'2000-03-26 01:30:00" + suffix + "'"},
				[2]any{ts("2038-01-18 20:14:07" + suffix), ts("2000-03-26 01:30:00" + suffix)}, sluice.KindTimestamp},
		)
	}
	return cols
}

// TestValueFidelity (S2) writes edge values of every MySQL type, reads them
// by the snapshot and from the binlog, and requires both to equal the
// expected Go values exactly, with the host in Asia/Kolkata (TestMain) and
// the server's time_zone at -07:00.
func TestValueFidelity(t *testing.T) {
	my := testenv.MariaDB(t)
	my.Exec(t, "", "SET GLOBAL time_zone = '-07:00'")
	t.Cleanup(func() { my.Exec(t, "", "SET GLOBAL time_zone = 'SYSTEM'") })
	db := my.CreateDatabase(t)
	cols := fidelityColumns()
	var defs, names []string
	for _, c := range cols {
		defs = append(defs, fmt.Sprintf("`%s` %s", c.name, c.typ))
		names = append(names, "`"+c.name+"`")
	}
	my.Exec(t, db, "CREATE TABLE `types` (`id` INT PRIMARY KEY, "+strings.Join(defs, ", ")+")")
	insert := func(ids ...int) {
		var stmts []string
		stmts = append(stmts, "SET SESSION time_zone = '-07:00'", "SET SESSION sql_mode = ''")
		for _, id := range ids {
			var vals []string
			for _, c := range cols {
				switch id % 100 {
				case 1:
					vals = append(vals, c.sql[0])
				case 2:
					vals = append(vals, c.sql[1])
				default:
					vals = append(vals, "NULL")
				}
			}
			stmts = append(stmts, fmt.Sprintf("INSERT INTO `types` (`id`, %s) VALUES (%d, %s)", strings.Join(names, ", "), id, strings.Join(vals, ", ")))
		}
		my.Exec(t, db, strings.Join(stmts, ";\n"))
	}
	insert(1, 2, 3)

	cfg := config(my, db+".types")
	cfg.ChunkBytes = 1 // one row a chunk: the 70 KB blob and everything else
	r := start(t, cfg, nil, nil)
	r.out.waitFor(t, "3 snapshot rows", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpRead) == 3 })
	insert(101, 102, 103)
	cs := r.out.waitFor(t, "3 binlog inserts", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpInsert) == 3 })

	rows := map[int64]sluice.Row{}
	var table *sluice.Table
	for _, c := range cs {
		if c.Op == sluice.OpRead || c.Op == sluice.OpInsert {
			rows[c.After[0].(int64)] = c.After
			if table != nil && c.Table != table {
				t.Errorf("one schema version, two *Table pointers (snapshot and stream must agree)")
			}
			table = c.Table
		}
	}
	if tabs, err := r.src.Tables(context.Background()); err != nil || len(tabs) != 1 || tabs[0] != table {
		t.Errorf("Tables() does not return the version rows carry: %v", err)
	}
	for i, c := range cols {
		col := table.Columns[i+1]
		if col.Name != c.name || col.Type.Kind != c.kind {
			t.Errorf("column %d: got %s %s, want %s %s", i+1, col.Name, col.Type.Kind, c.name, c.kind)
		}
	}
	if srid := table.Columns[table.ColumnIndex("geo4326")].Type.SRID; srid != 4326 {
		t.Errorf("POINT REF_SYSTEM_ID=4326: Type.SRID = %d", srid)
	}
	if n := table.Columns[table.ColumnIndex("b1")].Native; n != "tinyint(1)" {
		t.Errorf("TINYINT(1) native = %q", n)
	}
	for base := int64(1); base <= 3; base++ {
		for _, src := range []int64{base, base + 100} {
			row := rows[src]
			if row == nil {
				t.Fatalf("row %d missing", src)
			}
			for i, c := range cols {
				var want any
				if base < 3 {
					want = c.want[base-1]
				}
				got := row[i+1]
				how := "snapshot"
				if src > 100 {
					how = "binlog"
				}
				if !sluice.Equal(got, want) {
					t.Errorf("%s row %d column %s (%s): got %#v (%T), want %#v (%T)", how, base, c.name, c.typ, short(got), got, short(want), want)
				}
			}
		}
	}
}

func short(v any) any {
	switch x := v.(type) {
	case string:
		if len(x) > 60 {
			return x[:60] + "..."
		}
	case []byte:
		if len(x) > 60 {
			return x[:60]
		}
	}
	return v
}

// TestZeroDatePolicies (S2): zero dates are NULL by default (TestValueFidelity),
// kept as zero values with ZeroDateKeep — identically in snapshot and
// binlog — and an error naming the column with ZeroDateError.
func TestZeroDatePolicies(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE `z` (`id` INT PRIMARY KEY, `d` DATE, `dt` DATETIME(3), `ts` TIMESTAMP NULL)")
	ins := func(id int) {
		my.Exec(t, db, fmt.Sprintf("SET SESSION sql_mode = ''; INSERT INTO `z` VALUES (%d, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00')", id))
	}
	ins(1)
	cfg := config(my, db+".z")
	cfg.ZeroDate = mysql.ZeroDateKeep
	r := start(t, cfg, nil, nil)
	r.out.waitFor(t, "snapshot row", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpRead) == 1 })
	ins(2)
	cs := r.out.waitFor(t, "binlog row", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpInsert) == 1 })
	for _, c := range cs {
		if !c.Op.IsRow() {
			continue
		}
		if c.After[1] != (sluice.Date{}) || c.After[2] != (time.Time{}) || c.After[3] != (time.Time{}) {
			t.Errorf("%s: ZeroDateKeep gave %#v", c.Op, c.After)
		}
	}
	r.stop()

	cfg.ZeroDate = mysql.ZeroDateError
	r2 := start(t, cfg, nil, nil)
	select {
	case err := <-r2.done:
		r2.done <- err
		if err == nil || !strings.Contains(err.Error(), `"d"`) || !strings.Contains(err.Error(), "zero date") {
			t.Fatalf("ZeroDateError: got %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ZeroDateError: no error")
	}
}

// Package fidelity is the MySQL type-fidelity table (SPEC S2): every MySQL
// column type with edge values, as SQL literals, and the neutral Go value
// the MySQL source must emit for each. The source's own test and every
// backend's end-to-end type test use this one table, so "every type
// survives" means the same set everywhere.
//
// Rows follow one rule: row id with id%100 == 1 holds each column's first
// value, id%100 == 2 the second, any other id NULL in every column.
package fidelity

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sluicecdc/sluice"
)

// Column is one column of the table.
type Column struct {
	Name string
	Type string    // MySQL column type
	SQL  [2]string // the two values as SQL expressions
	Want [2]any    // what the source emits for them
	Kind sluice.Kind
}

// WantFor returns the value row id must carry in c (nil: NULL).
func (c Column) WantFor(id int) any {
	switch id % 100 {
	case 1:
		return c.Want[0]
	case 2:
		return c.Want[1]
	}
	return nil
}

// WKBPoint returns the well-known binary of POINT(x y).
func WKBPoint(x, y float64) sluice.Geometry {
	b := []byte{1, 1, 0, 0, 0}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(y))
	return b
}

// Columns returns the table for rows inserted in a session whose time_zone
// is zone: TIMESTAMP literals are written as wall clocks in zone for fixed
// UTC instants (the extremes of the TIMESTAMP range included), so the
// expected values do not depend on the zone.
func Columns(zone *time.Location) []Column {
	const layout = "2006-01-02 15:04:05.999999"
	dt := func(s string) time.Time { // a DATETIME: the wall clock, in UTC
		t, err := time.ParseInLocation(layout, s, time.UTC)
		if err != nil {
			panic(err)
		}
		return t
	}
	tsLit := func(t time.Time) string { return "'" + t.In(zone).Format(layout) + "'" }
	big := strings.Repeat("xy", 35000)
	cols := []Column{
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
		{"tsz", "TIMESTAMP NULL", [2]string{"'0000-00-00 00:00:00'", tsLit(time.Unix(1, 0))}, [2]any{nil, time.Unix(1, 0).UTC()}, sluice.KindTimestamp},
		{"yr", "YEAR", [2]string{"1901", "2155"}, [2]any{int64(1901), int64(2155)}, sluice.KindYear},
		{"yr0", "YEAR", [2]string{"0000", "2024"}, [2]any{int64(0), int64(2024)}, sluice.KindYear},
		{"en", "ENUM('a','b','c d','é')", [2]string{"'c d'", "'é'"}, [2]any{"c d", "é"}, sluice.KindEnum},
		{"st", "SET('x','y','z')", [2]string{"'x,z'", "''"}, [2]any{"x,z", ""}, sluice.KindSet},
		{"js", "JSON", [2]string{`'{"a": [1, 2.5, "x"], "b" : null, "c": "😀"}'`, "'[]'"}, [2]any{sluice.JSON(`{"a":[1,2.5,"x"],"b":null,"c":"😀"}`), sluice.JSON(`[]`)}, sluice.KindJSON},
		{"geo", "GEOMETRY", [2]string{"ST_GeomFromText('POINT(1 2)')", "ST_GeomFromText('POINT(-1.5 1e10)')"}, [2]any{WKBPoint(1, 2), WKBPoint(-1.5, 1e10)}, sluice.KindGeometry},
		{"geo4326", "POINT REF_SYSTEM_ID=4326", [2]string{"ST_GeomFromText('POINT(10 20)', 4326)", "NULL"}, [2]any{WKBPoint(10, 20), nil}, sluice.KindGeometry},
	}
	frac := "123456"
	for fsp := 0; fsp <= 6; fsp++ {
		suffix := ""
		if fsp > 0 {
			suffix = "." + frac[:fsp]
		}
		// The TIMESTAMP range's upper end, and an ordinary instant.
		hi := dt("2038-01-19 03:14:07" + suffix)
		gap := dt("2000-03-26 01:30:00" + suffix)
		cols = append(cols,
			Column{fmt.Sprintf("dt%d", fsp), fmt.Sprintf("DATETIME(%d)", fsp),
				[2]string{"'2024-02-29 12:34:56" + suffix + "'", "'9999-12-31 23:59:59" + suffix + "'"},
				[2]any{dt("2024-02-29 12:34:56" + suffix), dt("9999-12-31 23:59:59" + suffix)}, sluice.KindDateTime},
			Column{fmt.Sprintf("ts%d", fsp), fmt.Sprintf("TIMESTAMP(%d) NULL", fsp),
				[2]string{tsLit(hi), tsLit(gap)}, [2]any{hi, gap}, sluice.KindTimestamp},
		)
	}
	return cols
}

// CreateTable returns the CREATE TABLE statement for a table of cols with
// an INT primary key `id`.
func CreateTable(table string, cols []Column) string {
	defs := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = fmt.Sprintf("`%s` %s", c.Name, c.Type)
	}
	return fmt.Sprintf("CREATE TABLE `%s` (`id` INT PRIMARY KEY, %s)", table, strings.Join(defs, ", "))
}

// Insert returns the statements that insert rows ids into table in a
// session whose time_zone is zone (the zone Columns was called with), with
// the permissive sql_mode that admits zero dates.
func Insert(table string, cols []Column, zone *time.Location, ids ...int) string {
	_, off := time.Now().In(zone).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	stmts := []string{fmt.Sprintf("SET SESSION time_zone = '%s%02d:%02d'", sign, off/3600, off%3600/60), "SET SESSION sql_mode = ''"}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = "`" + c.Name + "`"
	}
	for _, id := range ids {
		vals := make([]string, len(cols))
		for i, c := range cols {
			switch id % 100 {
			case 1:
				vals[i] = c.SQL[0]
			case 2:
				vals[i] = c.SQL[1]
			default:
				vals[i] = "NULL"
			}
		}
		stmts = append(stmts, fmt.Sprintf("INSERT INTO `%s` (`id`, %s) VALUES (%d, %s)", table, strings.Join(names, ", "), id, strings.Join(vals, ", ")))
	}
	return strings.Join(stmts, ";\n")
}

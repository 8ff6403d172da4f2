package postgres

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/sluicecdc/sluice"
)

// SPEC T4: the default MySQL→PostgreSQL type table, row by row.
func TestTypeFor(t *testing.T) {
	for _, c := range []struct {
		typ  sluice.Type
		want string
	}{
		{sluice.Type{Kind: sluice.KindBool}, "boolean"},
		{sluice.Type{Kind: sluice.KindInt, Bits: 8}, "smallint"},
		{sluice.Type{Kind: sluice.KindInt, Bits: 16}, "smallint"},
		{sluice.Type{Kind: sluice.KindInt, Bits: 24}, "integer"},
		{sluice.Type{Kind: sluice.KindInt, Bits: 32}, "integer"},
		{sluice.Type{Kind: sluice.KindInt, Bits: 64}, "bigint"},
		{sluice.Type{Kind: sluice.KindUint, Bits: 8}, "smallint"},
		{sluice.Type{Kind: sluice.KindUint, Bits: 16}, "integer"},
		{sluice.Type{Kind: sluice.KindUint, Bits: 24}, "integer"},
		{sluice.Type{Kind: sluice.KindUint, Bits: 32}, "bigint"},
		{sluice.Type{Kind: sluice.KindUint, Bits: 64}, "numeric(20,0)"},
		{sluice.Type{Kind: sluice.KindFloat32}, "real"},
		{sluice.Type{Kind: sluice.KindFloat64}, "double precision"},
		{sluice.Type{Kind: sluice.KindDecimal, Precision: 65, Scale: 30}, "numeric(65,30)"},
		{sluice.Type{Kind: sluice.KindString, Length: 255}, "varchar(255)"},
		{sluice.Type{Kind: sluice.KindString, Length: 10, Fixed: true}, "varchar(10)"},
		{sluice.Type{Kind: sluice.KindString}, "text"},
		{sluice.Type{Kind: sluice.KindString, Length: 16777215}, "text"},
		{sluice.Type{Kind: sluice.KindBytes, Length: 16, Fixed: true}, "bytea"},
		{sluice.Type{Kind: sluice.KindDate}, "date"},
		{sluice.Type{Kind: sluice.KindTime, Scale: 3}, "interval"},
		{sluice.Type{Kind: sluice.KindDateTime, Scale: 6}, "timestamp(6)"},
		{sluice.Type{Kind: sluice.KindTimestamp, Scale: 0}, "timestamptz(0)"},
		{sluice.Type{Kind: sluice.KindYear}, "smallint"},
		{sluice.Type{Kind: sluice.KindEnum, Members: []string{"a"}}, "text"},
		{sluice.Type{Kind: sluice.KindSet, Members: []string{"a"}}, "text"},
		{sluice.Type{Kind: sluice.KindBit, Length: 1}, "boolean"},
		{sluice.Type{Kind: sluice.KindBit, Length: 12}, "bit varying(12)"},
		{sluice.Type{Kind: sluice.KindJSON}, "jsonb"},
		{sluice.Type{Kind: sluice.KindGeometry}, "bytea"},
		{sluice.Type{Kind: sluice.KindUUID}, "uuid"},
	} {
		got, err := TypeFor(c.typ)
		if err != nil || got != c.want {
			t.Errorf("TypeFor(%s) = %q, %v; want %q", c.typ, got, err, c.want)
		}
	}
	for _, bad := range []sluice.Type{
		{Kind: sluice.KindDecimal, Precision: 1001},
		{Kind: sluice.KindDecimal, Precision: 5, Scale: 6},
		{Kind: sluice.KindBit, Length: 0},
		{Kind: sluice.KindBit, Length: 65},
		{Kind: sluice.KindDateTime, Scale: 9},
		{Kind: sluice.KindInt, Bits: 128},
		{Kind: sluice.KindInvalid},
	} {
		if _, err := TypeFor(bad); !errors.Is(err, ErrUnsupportedType) {
			t.Errorf("TypeFor(%s) = %v, want ErrUnsupportedType", bad, err)
		}
	}
}

func TestEncoders(t *testing.T) {
	enc := func(typ sluice.Type, v any) any {
		t.Helper()
		e, err := encoderFor(typ)
		if err != nil {
			t.Fatal(err)
		}
		out, err := e(v)
		if err != nil {
			t.Fatalf("encode %s %v: %v", typ, v, err)
		}
		return out
	}
	bits := enc(sluice.Type{Kind: sluice.KindBit, Length: 12}, uint64(0b1000_0000_0011)).(pgtype.Bits)
	if bits.Len != 12 || len(bits.Bytes) != 2 || bits.Bytes[0] != 0b1000_0000 || bits.Bytes[1] != 0b0011_0000 {
		t.Errorf("bits = %+v", bits)
	}
	if v := enc(sluice.Type{Kind: sluice.KindDate}, sluice.Date{}); v != nil {
		t.Errorf("zero date = %v, want NULL", v)
	}
	if v := enc(sluice.Type{Kind: sluice.KindDate}, sluice.Date{Year: 2020, Month: 3}); v != nil {
		t.Errorf("zero-day date = %v, want NULL", v)
	}
	iv := enc(sluice.Type{Kind: sluice.KindTime}, -(838*time.Hour + 59*time.Minute + 59*time.Second + 500*time.Microsecond)).(pgtype.Interval)
	if iv.Microseconds != -3020399000500 || iv.Days != 0 || iv.Months != 0 {
		t.Errorf("interval = %+v", iv)
	}
	e, _ := encoderFor(sluice.Type{Kind: sluice.KindString})
	if _, err := e("a\x00b"); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("NUL string: %v, want an error", err)
	}
	if _, err := e(int64(1)); err == nil {
		t.Error("int64 for a string column: want an error")
	}
	e, _ = encoderFor(sluice.Type{Kind: sluice.KindDate})
	if _, err := e(sluice.Date{Year: 2021, Month: 2, Day: 30}); err == nil {
		t.Error("2021-02-30: want an error")
	}
}

func TestKeyFunc(t *testing.T) {
	tb, _ := sluice.NewTable(sluice.TableID{Name: "k"}, []sluice.Column{
		{Name: "t", Type: sluice.Type{Kind: sluice.KindDateTime}},
	}, []int{0})
	k := keyFunc(tb)
	a, _ := k(sluice.Row{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)})
	b, _ := k(sluice.Row{time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)})
	c, _ := k(sluice.Row{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)})
	if a == b || a != c {
		t.Errorf("time keys: %v %v %v", a, b, c)
	}
	tb2, _ := sluice.NewTable(sluice.TableID{Name: "k2"}, []sluice.Column{
		{Name: "a", Type: sluice.Type{Kind: sluice.KindBytes}},
		{Name: "b", Type: sluice.Type{Kind: sluice.KindString}},
	}, []int{0, 1})
	k2 := keyFunc(tb2)
	x, _ := k2(sluice.Row{[]byte("ab"), "c"})
	y, _ := k2(sluice.Row{[]byte("a"), "bc"})
	z, _ := k2(sluice.Row{[]byte("ab"), "c"})
	if x == y || x != z {
		t.Errorf("composite keys: %q %q %q", x, y, z)
	}
	if _, err := k2(sluice.Row{nil, "c"}); err == nil {
		t.Error("NULL key: want an error")
	}
}

// The decimal encoder keeps every digit and the scale.
func FuzzDecimalToNumeric(f *testing.F) {
	f.Add(int64(12345), uint8(2), true)
	f.Add(int64(0), uint8(30), false)
	f.Add(int64(-1), uint8(0), true)
	f.Fuzz(func(t *testing.T, n int64, scale uint8, wide bool) {
		scale %= 40
		digits := new(big.Int).SetInt64(n)
		if wide {
			digits.Mul(digits, new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil))
		}
		s := digits.String()
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		for len(s) <= int(scale) {
			s = "0" + s
		}
		text := s
		if scale > 0 {
			text = s[:len(s)-int(scale)] + "." + s[len(s)-int(scale):]
		}
		if neg {
			text = "-" + text
		}
		v, err := decimalToNumeric(sluice.Decimal(text))
		if err != nil {
			t.Fatal(err)
		}
		var gotInt *big.Int
		var exp int32
		switch x := v.(type) {
		case int64:
			gotInt = big.NewInt(x)
		case pgtype.Numeric:
			gotInt, exp = x.Int, x.Exp
		}
		if gotInt.Cmp(digits) != 0 || exp != -int32(scale) {
			t.Fatalf("%s: got %v e%d, want %v e-%d", text, gotInt, exp, digits, scale)
		}
	})
}

package expr

import (
	"math/big"
	"strconv"
	"testing"
)

// FuzzNumericCompare checks exact decimal comparison and the integer and
// unsigned views of a literal against math/big (SPEC T2: numbers compare
// exactly, never through float64).
func FuzzNumericCompare(f *testing.F) {
	for _, s := range []struct {
		a, b string
		v    int64
	}{{"1.5", "-2.25", 1}, {"9223372036854775807.5", "0", -9223372036854775808}, {"-9223372036854775808.5", "1e3", 0}, {"18446744073709551615.5", "0.000", 7}, {"-0.0", "0", -1}} {
		f.Add(s.a, s.b, s.v)
	}
	f.Fuzz(func(t *testing.T, a, b string, v int64) {
		da, ok1 := parseNumber(a)
		db, ok2 := parseNumber(b)
		if !ok1 || !ok2 || len(a) > 80 || len(b) > 80 {
			return
		}
		ra, ok := new(big.Rat).SetString(da.String())
		if !ok {
			t.Fatalf("%q → %q is not a number", a, da.String())
		}
		rb, _ := new(big.Rat).SetString(db.String())
		if ra2, ok := new(big.Rat).SetString(a); ok && ra2.Cmp(ra) != 0 {
			t.Fatalf("%q parsed as %s", a, da.String())
		}
		if got, want := cmpDecimal(da, db), ra.Cmp(rb); got != want {
			t.Fatalf("cmp(%s, %s) = %d, want %d", a, b, got, want)
		}
		rv := new(big.Rat).SetInt64(v)
		if got, want := toIntBound(da).cmp(v), rv.Cmp(ra); got != want {
			t.Fatalf("int %d vs %s: %d, want %d", v, a, got, want)
		}
		u := uint64(v)
		ru, _ := new(big.Rat).SetString(strconv.FormatUint(u, 10))
		if got, want := toUintBound(da).cmp(u), ru.Cmp(ra); got != want {
			t.Fatalf("uint %d vs %s: %d, want %d", u, a, got, want)
		}
	})
}

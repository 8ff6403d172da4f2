package kafka

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hamba/avro/v2"

	"github.com/sluicecdc/sluice"
)

// The JSON string encoder writes valid JSON that decodes to the input
// (invalid UTF-8 becomes U+FFFD, as encoding/json does).
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "ctl\x00\x01\x1f\x7f", "tab\tnl\n", "é😀中", "\u2028\u2029", "bad\xff\xfeutf8", "<script>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q → %s: invalid JSON: %v", s, b, err)
		}
		want := s
		if !utf8.ValidString(s) {
			// Like encoding/json: each invalid byte becomes U+FFFD.
			ref, _ := json.Marshal(s)
			_ = json.Unmarshal(ref, &want)
		}
		if got != want {
			t.Fatalf("%q → %s → %q", s, b, got)
		}
	})
}

// The decimal encoder is exact: any decimal text of a column's scale
// decodes (hamba/avro, big.Rat) to the same number.
func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0.50", "123.40", "99999999999999999999999999999999999.999999999999999999999999999999",
		"-99999999999999999999999999999999999.999999999999999999999999999999", "0.000000000000000000000000000001", "-12345678901234567890", "9223372036854775807", "-9223372036854775808", "128", "-129"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Only the Decimal form: [-]digits[.digits].
		body := strings.TrimPrefix(s, "-")
		ip, fp, _ := strings.Cut(body, ".")
		if ip == "" || strings.Trim(ip, "0123456789") != "" || strings.Trim(fp, "0123456789") != "" || strings.HasSuffix(body, ".") {
			return
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("%q: not a number to big.Rat", s)
		}
		scale := 0
		if i := strings.IndexByte(s, '.'); i >= 0 {
			scale = len(s) - i - 1
		}
		if scale > 30 || len(strings.TrimLeft(strings.TrimPrefix(s, "-"), "0")) > 66 {
			return
		}
		b, err := encDecimal(nil, sluice.Decimal(s), scale)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		sch := avro.MustParse(`{"type":"bytes","logicalType":"decimal","precision":80,"scale":` + itoa(scale) + `}`)
		var got *big.Rat
		if err := avro.Unmarshal(sch, b, &got); err != nil {
			t.Fatalf("%q: decoding: %v", s, err)
		}
		if got.Cmp(r) != 0 {
			t.Fatalf("%q: decoded %s", s, got.FloatString(scale))
		}
	})
}

func itoa(n int) string { return string(appendInt(nil, int64(n))) }

package transform

import (
	"os"
	"strings"
	"testing"

	"github.com/sluicecdc/sluice"
)

var matrixAbbrev = [...]string{"", "bool", "int", "uint", "f32", "f64", "dec", "str", "byt", "date", "time", "dt", "ts", "year", "enum", "set", "bit", "json", "geo", "uuid"}

// renderMatrix renders the conversion matrix as it appears in doc.go.
func renderMatrix() string {
	pad := func(s string, n int) string { return s + strings.Repeat(" ", n-len(s)) }
	var b strings.Builder
	b.WriteString("//\tfrom\\to ")
	for k := sluice.KindBool; k <= sluice.KindUUID; k++ {
		b.WriteString(pad(matrixAbbrev[k], 5))
	}
	b.WriteString("\n")
	for f := sluice.KindBool; f <= sluice.KindUUID; f++ {
		b.WriteString("//\t" + pad(matrixAbbrev[f], 8))
		for to := sluice.KindBool; to <= sluice.KindUUID; to++ {
			c := "."
			switch {
			case f == to:
				c = "="
			case CanConvert(f, to):
				c = "x"
			}
			b.WriteString(pad(c, 5))
		}
		b.WriteString("\n")
	}
	return strings.ReplaceAll(b.String(), " \n", "\n")
}

// SPEC T4: the conversion matrix documented in doc.go is the one enforced.
func TestDocumentedMatrix(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	want := renderMatrix()
	var trimmed []string
	for _, l := range strings.Split(want, "\n") {
		trimmed = append(trimmed, strings.TrimRight(l, " "))
	}
	want = strings.Join(trimmed, "\n")
	if !strings.Contains(string(doc), want) {
		t.Errorf("doc.go does not contain the current matrix; paste:\n%s", want)
	}
}

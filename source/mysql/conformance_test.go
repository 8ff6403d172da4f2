package mysql_test

import (
	"math"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/source"
	"github.com/sluicecdc/sluice/source/mysql"
	"github.com/sluicecdc/sluice/source/sourcetest"
)

// TestConformance runs the source conformance suite (S1, S2, S5, S6)
// against MariaDB.
func TestConformance(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	sqldb := my.DB(t, db)
	sourcetest.Run(t, sourcetest.Harness{
		Table: func(name string) string { return "`" + db + "`.`" + name + "`" },
		Exec: func(t testing.TB, stmts ...string) {
			tx, err := sqldb.Begin()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range stmts {
				if _, err := tx.Exec(s); err != nil {
					tx.Rollback()
					t.Fatalf("%s: %v", s, err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		},
		NewSource: func(t testing.TB, tables ...string) source.Source {
			var sel []string
			for _, n := range tables {
				sel = append(sel, db+"."+n)
			}
			src, err := mysql.New(config(my, sel...))
			if err != nil {
				t.Fatal(err)
			}
			return src
		},
		Types: []sourcetest.TypeCase{
			{SQLType: "BIGINT UNSIGNED", Literal: "18446744073709551615", Want: uint64(math.MaxUint64)},
			{SQLType: "INT", Literal: "NULL", Want: nil},
			{SQLType: "DECIMAL(10,3)", Literal: "-1.5", Want: sluice.Decimal("-1.500")},
			{SQLType: "VARCHAR(10)", Literal: "'ünï 😀'", Want: "ünï 😀"},
			{SQLType: "DATETIME(6)", Literal: "'2020-01-02 03:04:05.000006'", Want: time.Date(2020, 1, 2, 3, 4, 5, 6000, time.UTC)},
			{SQLType: "TIME", Literal: "'-100:00:00'", Want: -100 * time.Hour},
			{SQLType: "BLOB", Literal: "x'00ff'", Want: []byte{0, 0xff}},
			{SQLType: "ENUM('x','y')", Literal: "'y'", Want: "y"},
			{SQLType: "JSON", Literal: `'{"a" : 1}'`, Want: sluice.JSON(`{"a":1}`)},
			{SQLType: "BIT(3)", Literal: "b'101'", Want: uint64(5)},
			{SQLType: "YEAR", Literal: "2000", Want: int64(2000)},
			{SQLType: "DATE", Literal: "'2000-02-29'", Want: sluice.Date{Year: 2000, Month: 2, Day: 29}},
		},
		HeartbeatWithin: 2 * time.Second,
	})
}

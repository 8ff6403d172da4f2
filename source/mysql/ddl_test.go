package mysql

import (
	"testing"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/sluicecdc/sluice"
)

// TestDDLColumnTypes (S3): column types parsed from DDL map to the same
// neutral types as information_schema would give.
func TestDDLColumnTypes(t *testing.T) {
	cases := []struct {
		def  string
		want sluice.Type
		cs   string
	}{
		{"INT", sluice.Type{Kind: sluice.KindInt, Bits: 32}, ""},
		{"INT UNSIGNED NOT NULL", sluice.Type{Kind: sluice.KindUint, Bits: 32}, ""},
		{"TINYINT(1)", sluice.Type{Kind: sluice.KindInt, Bits: 8}, ""},
		{"BOOL", sluice.Type{Kind: sluice.KindInt, Bits: 8}, ""},
		{"MEDIUMINT UNSIGNED", sluice.Type{Kind: sluice.KindUint, Bits: 24}, ""},
		{"BIGINT", sluice.Type{Kind: sluice.KindInt, Bits: 64}, ""},
		{"DECIMAL(65,30)", sluice.Type{Kind: sluice.KindDecimal, Precision: 65, Scale: 30}, ""},
		{"FLOAT", sluice.Type{Kind: sluice.KindFloat32}, ""},
		{"DOUBLE", sluice.Type{Kind: sluice.KindFloat64}, ""},
		{"BIT(12)", sluice.Type{Kind: sluice.KindBit, Length: 12}, ""},
		{"VARCHAR(20)", sluice.Type{Kind: sluice.KindString, Length: 20}, "utf8mb4"},
		{"VARCHAR(20) CHARACTER SET latin1", sluice.Type{Kind: sluice.KindString, Length: 20}, "latin1"},
		{"CHAR(3)", sluice.Type{Kind: sluice.KindString, Length: 3, Fixed: true}, "utf8mb4"},
		{"TEXT", sluice.Type{Kind: sluice.KindString}, "utf8mb4"},
		{"LONGTEXT", sluice.Type{Kind: sluice.KindString}, "utf8mb4"},
		{"BLOB", sluice.Type{Kind: sluice.KindBytes}, ""},
		{"LONGBLOB", sluice.Type{Kind: sluice.KindBytes}, ""},
		{"BINARY(4)", sluice.Type{Kind: sluice.KindBytes, Length: 4, Fixed: true}, ""},
		{"VARBINARY(10)", sluice.Type{Kind: sluice.KindBytes, Length: 10}, ""},
		{"DATE", sluice.Type{Kind: sluice.KindDate}, ""},
		{"TIME(3)", sluice.Type{Kind: sluice.KindTime, Scale: 3}, ""},
		{"DATETIME", sluice.Type{Kind: sluice.KindDateTime}, ""},
		{"DATETIME(6)", sluice.Type{Kind: sluice.KindDateTime, Scale: 6}, ""},
		{"TIMESTAMP(2) NULL", sluice.Type{Kind: sluice.KindTimestamp, Scale: 2}, ""},
		{"YEAR", sluice.Type{Kind: sluice.KindYear}, ""},
		{"ENUM('a','b''c')", sluice.Type{Kind: sluice.KindEnum, Members: []string{"a", "b'c"}}, "utf8mb4"},
		{"SET('x','y')", sluice.Type{Kind: sluice.KindSet, Members: []string{"x", "y"}}, "utf8mb4"},
		{"JSON", sluice.Type{Kind: sluice.KindJSON}, ""},
		{"LONGTEXT CHECK (json_valid(`c`))", sluice.Type{Kind: sluice.KindJSON}, "utf8mb4"},
	}
	p := parser.New()
	for _, tc := range cases {
		stmt, err := p.ParseOneStmt("ALTER TABLE t ADD COLUMN `c` "+tc.def, "", "")
		if err != nil {
			t.Errorf("%s: %v", tc.def, err)
			continue
		}
		def := stmt.(*ast.AlterTableStmt).Specs[0].NewColumns[0]
		col, cs, _, err := colFromDef(def, "utf8mb4")
		if err != nil {
			t.Errorf("%s: %v", tc.def, err)
			continue
		}
		if !col.Type.Equal(tc.want) || cs != tc.cs {
			t.Errorf("%s: got %v charset %q, want %v charset %q (native %q)", tc.def, col.Type, cs, tc.want, tc.cs, col.Native)
		}
	}
}

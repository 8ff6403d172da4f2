package mysql

import (
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluicecdc/sluice"
)

type nopEmitter struct{ n int }

func (e *nopEmitter) Emit(sluice.Change) error { e.n++; return nil }
func (e *nopEmitter) Progress(sluice.Progress) {}

// BenchmarkBinlogRows measures the source's own work per binlog row (the
// conversion of go-mysql's values and the emission), for sysbench rows,
// without go-mysql's decoding.
func BenchmarkBinlogRows(b *testing.B) {
	cols := []columnSpec{
		{name: "id", dataType: "int", columnType: "int(11)"},
		{name: "k", dataType: "int", columnType: "int(11)"},
		{name: "c", dataType: "char", columnType: "char(120)", charset: "utf8mb4"},
		{name: "pad", dataType: "char", columnType: "char(60)", charset: "utf8mb4"},
	}
	var sc []sluice.Column
	var css []string
	for _, s := range cols {
		c, cs, err := mapColumn(s)
		if err != nil {
			b.Fatal(err)
		}
		sc = append(sc, c)
		css = append(css, cs)
	}
	t, _ := sluice.NewTable(sluice.TableID{Schema: "sbtest", Name: "sbtest1"}, sc, []int{0})
	m := &tableMeta{t: t, charsets: css}
	s := &Source{cfg: Config{HeartbeatPeriod: 1e9}.withDefaults()}
	out := &nopEmitter{}
	st := &streamer{s: s, out: out, tableMap: map[uint64]*tableDec{1: {meta: m, convs: newConvs(m, ZeroDateNull, "mariadb")}}}
	const perEvent = 40
	ev := &replication.RowsEvent{TableID: 1}
	for i := 0; i < perEvent; i++ {
		ev.Rows = append(ev.Rows, []any{int32(i + 1000), int32(i * 7), strings.Repeat("1", 119), strings.Repeat("2", 59)})
	}
	h := &replication.EventHeader{EventType: replication.WRITE_ROWS_EVENTv2, ServerID: 1, Timestamp: 1}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += perEvent {
		if err := st.rows(h, ev); err != nil {
			b.Fatal(err)
		}
	}
}

package transform_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/pipeline"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/postgres"
	"github.com/sluicecdc/sluice/source/mysql"
	"github.com/sluicecdc/sluice/transform"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// e2eModel is the expected content of the merged target table, kept in
// step with every statement run on the source.
type e2eModel struct {
	mu     sync.Mutex
	source map[e2eKey]e2eRow // rows that exist on the source
	target map[e2eKey]e2eRow // rows the target must hold at the end
	// streaming is set once the snapshot is done: deletes are then dropped
	// by operation selection (during the snapshot they are never issued).
}

type e2eKey struct {
	shard string // "db.orders"
	id    int64
}

type e2eRow struct {
	amount string // decimal(10,2) text
	status string
	paid   bool
}

// inFilter mirrors the filter "amount >= 100 AND status IN ('paid','shipped')".
func (r e2eRow) inFilter() bool {
	var a float64
	fmt.Sscanf(r.amount, "%g", &a) // test oracle only; amounts have 2 decimals
	return a >= 100 && (r.status == "paid" || r.status == "shipped")
}

func (m *e2eModel) upsert(k e2eKey, r e2eRow) {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev, existed := m.source[k]
	m.source[k] = r
	switch {
	case r.inFilter(): // insert in, update staying in or moving in (→ insert)
		m.target[k] = r
	case existed && prev.inFilter(): // update moving out → delete
		delete(m.target, k)
	}
	// An insert or update outside the filter before and after changes nothing
	// (the target may still hold a row whose source DELETE was dropped).
}

// remove records a source DELETE: operation selection drops it, so the
// target keeps the row if it had it.
func (m *e2eModel) remove(k e2eKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.source, k)
}

// shardDB is one source database (a shard).
type shardDB struct {
	name string
	db   *sql.DB
}

func (s shardDB) key(id int64) e2eKey { return e2eKey{shard: s.name + ".orders", id: id} }

func (s shardDB) write(t *testing.T, m *e2eModel, id int64, r e2eRow, insert bool) {
	t.Helper()
	paid := 0
	if r.paid {
		paid = 1
	}
	var err error
	if insert {
		_, err = s.db.Exec("INSERT INTO orders (id, amount, status, secret, is_paid) VALUES (?, ?, ?, ?, ?)", id, r.amount, r.status, "pw-"+r.status, paid)
	} else {
		_, err = s.db.Exec("UPDATE orders SET amount = ?, status = ?, secret = ?, is_paid = ? WHERE id = ?", r.amount, r.status, "pw2", paid, id)
	}
	if err != nil {
		t.Errorf("%s: writing order %d: %v", s.name, id, err)
		return
	}
	m.upsert(s.key(id), r)
}

var statuses = []string{"new", "paid", "shipped", "cancelled"}

func randomRow(rng *rand.Rand) e2eRow {
	return e2eRow{
		amount: fmt.Sprintf("%d.%02d", rng.IntN(250), rng.IntN(100)),
		status: statuses[rng.IntN(len(statuses))],
		paid:   rng.IntN(2) == 1,
	}
}

// SPEC T1, T2, T3, T4 end to end, real MariaDB → real PostgreSQL: two shards
// with clashing ids merged into public.orders_all (the shard joins the key),
// a column dropped, tinyint(1) mapped to boolean, a filter on amount and
// status, deletes not synchronized, and a second table renamed with a
// renamed column. Updates move rows into and out of the filter both while
// the snapshot runs and while streaming; the target must hold exactly the
// expected rows.
func TestEndToEndRenameMergeFilterOps(t *testing.T) {
	my := testenv.MariaDB(t)
	pgConn := testenv.Postgres(t)
	var shards [2]shardDB
	schema := `CREATE TABLE orders (id BIGINT PRIMARY KEY, amount DECIMAL(10,2) NOT NULL, status VARCHAR(20) NOT NULL,
		secret TEXT, is_paid TINYINT(1) NOT NULL)`
	for i := range shards {
		name := my.CreateDatabase(t)
		my.Exec(t, name, schema)
		shards[i] = shardDB{name: name, db: my.DB(t, name)}
	}
	my.Exec(t, shards[0].name, "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, secret TEXT)",
		"INSERT INTO customers VALUES (1, 'Zoë', 'x'), (2, 'Ada', 'y')")
	pgDB := pgConn.CreateDatabase(t)
	pool := pgConn.Pool(t, pgDB)

	m := &e2eModel{source: map[e2eKey]e2eRow{}, target: map[e2eKey]e2eRow{}}
	rng := rand.New(rand.NewPCG(5, 5))
	const seeded = 10000
	for _, s := range shards {
		var sb strings.Builder
		sb.WriteString("INSERT INTO orders (id, amount, status, secret, is_paid) VALUES ")
		for id := int64(1); id <= seeded; id++ { // the same ids in both shards
			r := randomRow(rng)
			if id > 1 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "(%d, %s, '%s', 'pw', %d)", id, r.amount, r.status, map[bool]int{false: 0, true: 1}[r.paid])
			m.upsert(s.key(id), r)
		}
		if _, err := s.db.Exec(sb.String()); err != nil {
			t.Fatal(err)
		}
	}

	rename, err := transform.NewRename(transform.RenameConfig{
		Tables: []transform.TableRule{
			{Match: "*.orders", Drop: []string{"secret"}},
			{Match: shards[0].name + ".customers", To: "public.clients", Columns: map[string]string{"name": "full_name"}, Drop: []string{"secret"}},
		},
		Merges: []transform.MergeRule{{
			From:         []string{shards[0].name + ".orders", shards[1].name + ".orders"},
			To:           "public.orders_all",
			SourceColumn: "shard", SourceInKey: true,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ops, err := transform.NewOps(transform.OpsConfig{Allow: []sluice.Op{sluice.OpInsert, sluice.OpUpdate, sluice.OpSchema}})
	if err != nil {
		t.Fatal(err)
	}
	filter, err := transform.NewFilter(transform.FilterConfig{Rules: []transform.FilterRule{
		{Table: "public.orders_all", Where: "amount >= 100 AND status IN ('paid', 'shipped')"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	types, err := transform.NewTypeMap(transform.TypeMapConfig{Natives: []transform.NativeType{{Native: "tinyint(1)", Type: sluice.Type{Kind: sluice.KindBool}}}})
	if err != nil {
		t.Fatal(err)
	}

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	src, err := mysql.New(mysql.Config{Addr: my.Addr(), User: my.User, Password: my.Password,
		Tables: []string{shards[0].name + ".*", shards[1].name + ".orders"}, ServerID: 7100, ChunkSize: 200, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	dst, err := postgres.New(context.Background(), postgres.Config{ConnString: pgConn.ConnString(pgDB), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Config{
		Name: "transforms", Source: src, Sinks: []sink.Sink{dst}, Logger: quiet,
		// Operation selection before the filter: it selects the source's
		// operations; an UPDATE leaving the filter still becomes a delete.
		Transforms: []transform.Transform{rename, ops, filter, types},
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Phase 1, concurrent with the snapshot: inserts and updates (moving rows
	// in and out of the filter), no deletes.
	step := func(rng *rand.Rand, allowDelete bool) {
		s := shards[rng.IntN(2)]
		id := int64(1 + rng.IntN(seeded+200))
		m.mu.Lock()
		_, exists := m.source[s.key(id)]
		m.mu.Unlock()
		switch {
		case exists && allowDelete && rng.IntN(6) == 0:
			if _, err := s.db.Exec("DELETE FROM orders WHERE id = ?", id); err != nil {
				t.Errorf("delete: %v", err)
				return
			}
			m.remove(s.key(id))
		default:
			s.write(t, m, id, randomRow(rng), !exists)
		}
	}
	phase1 := make(chan int)
	go func() {
		during, after := 0, 0
		for after < 300 {
			step(rng, false)
			if p.State() == pipeline.StateSynchronizing {
				after++
			} else {
				during++
			}
		}
		phase1 <- during
	}()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Logf("%d source writes while the pipeline was starting or snapshotting", <-phase1)
	deadline := time.Now().Add(90 * time.Second)
	for p.State() != pipeline.StateSynchronizing {
		select {
		case err := <-done:
			t.Fatalf("pipeline ended during the snapshot: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %s after 90 s", p.State())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Phase 2, streaming: inserts, updates and deletes (deletes are dropped).
	for i := 0; i < 800; i++ {
		step(rng, true)
	}
	// Deterministic moves, checked by name below.
	s0 := shards[0]
	s0.write(t, m, 100001, e2eRow{"150.00", "paid", true}, true)       // insert in
	s0.write(t, m, 100002, e2eRow{"50.00", "paid", false}, true)       // insert out
	s0.write(t, m, 100002, e2eRow{"500.00", "shipped", true}, false)   // moves in → insert
	s0.write(t, m, 100001, e2eRow{"150.00", "cancelled", true}, false) // moves out → delete
	s0.write(t, m, 100003, e2eRow{"120.00", "paid", true}, true)
	if _, err := s0.db.Exec("DELETE FROM orders WHERE id = 100003"); err != nil { // dropped: stays in the target
		t.Fatal(err)
	}
	m.remove(s0.key(100003))
	if _, err := s0.db.Exec("UPDATE customers SET name = 'Zoë Ünal' WHERE id = 1"); err != nil {
		t.Fatal(err)
	}

	// The target converges on the model.
	want := m.expected()
	var got map[e2eKey]e2eRow
	deadline = time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("pipeline ended: %v", err)
		default:
		}
		got, err = readTarget(ctx, pool)
		if err == nil && equalRows(got, want) {
			break
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("reading the target: %v", err)
			}
			t.Fatalf("target differs from the expected rows after 60 s:\n%s", diffRows(got, want))
		}
		time.Sleep(300 * time.Millisecond)
	}
	for _, k := range []struct {
		id   int64
		want bool
	}{{100001, false}, {100002, true}, {100003, true}} {
		if _, ok := got[s0.key(k.id)]; ok != k.want {
			t.Errorf("order %d present=%v, want %v", k.id, ok, k.want)
		}
	}
	if len(want) < 200 || len(want) > 2*seeded {
		t.Errorf("degenerate expectation: %d rows", len(want))
	}

	// Target structure: dropped column absent, tinyint(1) became boolean, the
	// shard is part of the key; the renamed table with its renamed column.
	var cols []string
	rows, err := pool.Query(ctx, `SELECT column_name || ':' || data_type FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name = 'orders_all' ORDER BY ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if got := strings.Join(cols, ","); !strings.Contains(got, "is_paid:boolean") || strings.Contains(got, "secret") || !strings.Contains(got, "shard:") {
		t.Errorf("target columns: %s", got)
	}
	var pk string
	if err := pool.QueryRow(ctx, `SELECT string_agg(a.attname, ',' ORDER BY array_position(i.indkey, a.attnum))
		FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = 'public.orders_all'::regclass AND i.indisprimary`).Scan(&pk); err != nil {
		t.Fatal(err)
	}
	if pk != "shard,id" {
		t.Errorf("primary key (%s), want (shard,id)", pk)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		var name string
		err := pool.QueryRow(ctx, `SELECT full_name FROM public.clients WHERE id = 1`).Scan(&name)
		if err == nil && name == "Zoë Ünal" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("renamed table: %q, %v", name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	p.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func (m *e2eModel) expected() map[e2eKey]e2eRow {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[e2eKey]e2eRow, len(m.target))
	for k, v := range m.target {
		out[k] = v
	}
	return out
}

// readTarget reads the merged target table.
func readTarget(ctx context.Context, pool *pgxpool.Pool) (map[e2eKey]e2eRow, error) {
	rows, err := pool.Query(ctx, `SELECT shard, id, amount::text, status, is_paid FROM public.orders_all`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[e2eKey]e2eRow{}
	for rows.Next() {
		var k e2eKey
		var r e2eRow
		if err := rows.Scan(&k.shard, &k.id, &r.amount, &r.status, &r.paid); err != nil {
			return nil, err
		}
		out[k] = r
	}
	return out, rows.Err()
}

func equalRows(a, b map[e2eKey]e2eRow) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// diffRows lists up to 20 differences.
func diffRows(got, want map[e2eKey]e2eRow) string {
	var lines []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			lines = append(lines, fmt.Sprintf("missing %v: want %+v", k, w))
		} else if g != w {
			lines = append(lines, fmt.Sprintf("differs %v: got %+v, want %+v", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("unexpected %v: %+v", k, g))
		}
	}
	sort.Strings(lines)
	if len(lines) > 20 {
		lines = append(lines[:20], fmt.Sprintf("... %d differences in all", len(lines)))
	}
	return fmt.Sprintf("got %d rows, want %d\n%s", len(got), len(want), strings.Join(lines, "\n"))
}

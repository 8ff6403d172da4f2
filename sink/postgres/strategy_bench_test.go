package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sluicecdc/sluice/internal/testenv"
)

// BenchmarkUpsertStrategy compares ways to upsert a batch of 5,000 sysbench
// rows (half existing keys, half new) in one transaction, to justify the
// sink's choice (COPY into a temp stage table, then one INSERT ... SELECT
// ... ON CONFLICT): multi-row INSERT ... VALUES ... ON CONFLICT statements
// of 1,000 rows, and pipelined single-row upserts (pgx.Batch). Reported as
// rows/s.
func BenchmarkUpsertStrategy(b *testing.B) {
	pg := testenv.Postgres(b)
	db := pg.CreateDatabase(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.ConnString(db))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE sb (id int PRIMARY KEY, k int NOT NULL, c varchar(120) NOT NULL, pad varchar(60) NOT NULL);
		CREATE TEMP TABLE stage (id int, k int, c varchar(120), pad varchar(60)) ON COMMIT DELETE ROWS`); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	rows := func(base int) [][]any {
		out := make([][]any, benchBatch)
		for i := range out {
			id := base + i
			if i%2 == 0 {
				id = 1 + rng.IntN(base+1) // an existing key
			}
			out[i] = []any{int32(id), int32(rng.IntN(1e6)), sbString(rng, 10), sbString(rng, 5)}
		}
		// One value per key per statement (the sink de-duplicates first).
		seen := map[any]bool{}
		uniq := out[:0]
		for _, r := range out {
			if !seen[r[0]] {
				seen[r[0]] = true
				uniq = append(uniq, r)
			}
		}
		return uniq
	}
	const set = " ON CONFLICT (id) DO UPDATE SET k = EXCLUDED.k, c = EXCLUDED.c, pad = EXCLUDED.pad"
	strategies := map[string]func(tx pgx.Tx, rs [][]any) error{
		"copy-stage-merge": func(tx pgx.Tx, rs [][]any) error {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"pg_temp", "stage"}, []string{"id", "k", "c", "pad"}, pgx.CopyFromRows(rs)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO sb SELECT * FROM pg_temp.stage"+set)
			return err
		},
		"multirow-values-1000": func(tx pgx.Tx, rs [][]any) error {
			for len(rs) > 0 {
				n := min(1000, len(rs))
				var q strings.Builder
				q.WriteString("INSERT INTO sb VALUES ")
				args := make([]any, 0, 4*n)
				for i, r := range rs[:n] {
					if i > 0 {
						q.WriteByte(',')
					}
					fmt.Fprintf(&q, "($%d,$%d,$%d,$%d)", 4*i+1, 4*i+2, 4*i+3, 4*i+4)
					args = append(args, r...)
				}
				q.WriteString(set)
				if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
					return err
				}
				rs = rs[n:]
			}
			return nil
		},
		"pipelined-single-row": func(tx pgx.Tx, rs [][]any) error {
			var bt pgx.Batch
			for _, r := range rs {
				bt.Queue("INSERT INTO sb VALUES ($1,$2,$3,$4)"+set, r...)
			}
			return tx.SendBatch(ctx, &bt).Close()
		},
	}
	for _, name := range []string{"copy-stage-merge", "multirow-values-1000", "pipelined-single-row"} {
		apply := strategies[name]
		b.Run(name, func(b *testing.B) {
			if _, err := conn.Exec(ctx, "TRUNCATE sb"); err != nil {
				b.Fatal(err)
			}
			base := 1
			var busy time.Duration
			var n int
			for i := 0; i < b.N; i++ {
				rs := rows(base)
				base += benchBatch
				start := time.Now()
				tx, err := conn.Begin(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := apply(tx, rs); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(ctx); err != nil {
					b.Fatal(err)
				}
				busy += time.Since(start)
				n += len(rs)
			}
			b.ReportMetric(float64(n)/busy.Seconds(), "rows/s")
		})
	}
}

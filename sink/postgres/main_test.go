package postgres_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/postgres"
	"github.com/sluicecdc/sluice/sink/sinktest"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// pgTarget is a fresh database on the package's PostgreSQL.
type pgTarget struct {
	conn string
	cfg  postgres.Config
}

func newTarget(t *testing.T, cfg postgres.Config) *pgTarget {
	t.Helper()
	pg := testenv.Postgres(t)
	db := pg.CreateDatabase(t)
	cfg.ConnString = pg.ConnString(db)
	return &pgTarget{conn: cfg.ConnString, cfg: cfg}
}

func (p *pgTarget) Open(t *testing.T) sink.Sink { return p.open(t) }

func (p *pgTarget) open(t *testing.T) *postgres.Sink {
	t.Helper()
	s, err := postgres.New(context.Background(), p.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func (p *pgTarget) Read(t *testing.T, table *sluice.Table) []sluice.Row {
	t.Helper()
	s := p.open(t)
	rows, err := s.ReadTable(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// SPEC K1, P2, N2: the PostgreSQL sink passes the sink conformance suite.
// Run with one load worker (everything in the batch transaction) and with
// parallel snapshot loading.
func TestConformance(t *testing.T) {
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			sinktest.Run(t, sinktest.Harness{
				NewTarget: func(t *testing.T) sinktest.Target {
					return newTarget(t, postgres.Config{LoadWorkers: workers, Logger: quiet})
				},
				Features: []sinktest.Feature{sinktest.Checkpoint, sinktest.Truncate, sinktest.AddColumn, sinktest.Unchanged, sinktest.ZeroDateNull},
			})
		})
	}
}

// SPEC K1, P7: valid change streams (no conflicts in them) apply the same
// under the stricter conflict policies, whose statements differ.
func TestConformanceStrictPolicies(t *testing.T) {
	for _, c := range []postgres.Conflict{postgres.ConflictFail, postgres.ConflictIgnore} {
		t.Run(c.String(), func(t *testing.T) {
			sinktest.Run(t, sinktest.Harness{
				NewTarget: func(t *testing.T) sinktest.Target {
					return newTarget(t, postgres.Config{Conflict: c, Logger: quiet})
				},
				Features: []sinktest.Feature{sinktest.Checkpoint, sinktest.Truncate, sinktest.AddColumn, sinktest.Unchanged},
				Only: []string{"AllKinds", "Nulls", "UpdateDelete", "KeyChange", "InBatchDedup", "SnapshotThenStream",
					"RandomChanges", "Truncate", "AddColumn", "Unchanged"},
			})
		})
	}
}

package workload

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/sluicecdc/sluice/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// The writers must really write: every kind of transaction commits.
func TestSeedAndWriters(t *testing.T) {
	my := testenv.MariaDB(t)
	dbName := my.CreateDatabase(t)
	my.Exec(t, dbName, Schema...)
	db := my.DB(t, dbName)
	ctx := context.Background()
	if err := Seed(ctx, db, 50, 40, 200); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM order_items").Scan(&n); err != nil || n != 400 {
		t.Fatalf("order_items = %d, %v; want 400", n, err)
	}
	w := StartWriters(ctx, db, 3, 0, 200, 50, 40)
	time.Sleep(time.Second)
	w.Stop()
	if w.Txns.Load() < 50 {
		t.Fatalf("writers committed %d transactions in 1s (errors %d, last %v)", w.Txns.Load(), w.Errors.Load(), w.LastError())
	}
	var moved int
	if err := db.QueryRow("SELECT COUNT(*) FROM orders WHERE id > 200").Scan(&moved); err != nil || moved == 0 {
		t.Fatalf("no new or re-keyed orders (%d, %v)", moved, err)
	}
}

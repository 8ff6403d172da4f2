package testenv_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"testing"

	"github.com/sluicecdc/sluice/internal/testenv"
)

// A test package's TestMain hands control to Run, which removes the
// package's servers after its tests:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }
func ExampleMariaDB() {
	// Inside a test function (t is the *testing.T):
	var t testing.TB
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE `orders` (`id` BIGINT UNSIGNED PRIMARY KEY, `total` DECIMAL(12,2))")
	_ = my.DSN(db) // the password account's DSN, for the code under test
}

func ExamplePostgres() {
	var t testing.TB
	pg := testenv.Postgres(t)
	db := pg.CreateDatabase(t)
	pg.Exec(t, db, `CREATE TABLE "orders" ("id" bigint PRIMARY KEY)`)
	_ = pg.ConnString(db) // postgres://sluice:…@127.0.0.1:port/db?sslmode=disable
}

// Demos and benchmarks own their servers and close them.
func ExampleStartMariaDB() {
	ctx := context.Background()
	s, err := testenv.StartMariaDB(ctx, testenv.MariaDBOptions{ServerID: 2})
	if err != nil {
		log.Fatal(err) // names the apt-get command when mariadbd is missing
	}
	defer s.Close()
	db, err := sql.Open("mysql", s.MySQL().DSN(""))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	var format string
	if err := db.QueryRowContext(ctx, "SELECT @@binlog_format").Scan(&format); err != nil {
		log.Fatal(err)
	}
	fmt.Println(format)
	// Output: ROW
}

package mysql_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/sluicecdc/sluice/source/mysql"
)

// Example configures a source that snapshots every table of the shop
// database except temporary ones, then streams the binlog.
func Example() {
	src, err := mysql.New(mysql.Config{
		Addr:     "127.0.0.1:3306",
		User:     "repl",
		Password: os.Getenv("MYSQL_PASSWORD"),
		Tables:   []string{"shop.*"},
		Exclude:  []string{"shop.tmp_*"},
		Keys:     map[string][]string{"shop.audit": {"event_id"}}, // a table without a primary key
	})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	_ = func(ctx context.Context) {
		for _, c := range src.Precheck(ctx) {
			fmt.Println(c)
		}
	}
	fmt.Println("configured")
	// Output: configured
}

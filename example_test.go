package sluice_test

import (
	"context"
	"log"
	"os"
	"os/signal"

	"github.com/sluicecdc/sluice/pipeline"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/postgres"
	"github.com/sluicecdc/sluice/source/mysql"
)

// A complete MySQL→PostgreSQL program: schema sync, initial sync, then
// streaming until interrupted; restarting resumes exactly where it stopped.
// (Compiled, not run: it needs your servers. `make demo` runs the same on
// private ones.)
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	src, err := mysql.New(mysql.Config{
		Addr: "127.0.0.1:3306", User: "repl", Password: os.Getenv("MYSQL_PASSWORD"),
		Tables: []string{"shop.*"},
	})
	if err != nil {
		log.Fatal(err)
	}
	dst, err := postgres.New(ctx, postgres.Config{ConnString: os.Getenv("PG_URL")})
	if err != nil {
		log.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Config{Name: "shop", Source: src, Sinks: []sink.Sink{dst}})
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}

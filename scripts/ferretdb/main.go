// Command ferretdb runs FerretDB's embeddable server on SQLite: the MongoDB-wire store that
// `codex-bridge dev` and the tests start on loopback when no MONGODB_URI is given.
//
// FerretDB's own command refuses to start when built with `go install` (it wants release
// metadata); the embeddable package has no such check.
//
// `ferretdb explain-plan FILE SQL [ARGS_JSON]` prints SQLite's query plan for one statement on a
// data file, one line per plan row: how the tests check that the store's queries use indexes.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
	_ "modernc.org/sqlite"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "explain-plan" {
		if err := explainPlan(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "explain-plan: %v\n", err)
			os.Exit(1)
		}
		return
	}

	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite directory URI (must end with /)")
	debugLog := flag.Bool("debug-log", false, "log every SQL statement with its arguments (JSON lines on stderr)")
	flag.Parse()

	// FerretDB decodes every document it reads into short-lived objects; a larger GC target trades a
	// few MiB of heap for markedly less collector CPU per query (GOGC, when set, still wins).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}

	level := slog.LevelError
	if *debugLog {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: *sqliteURL,
		Logger:    logger,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(os.Stderr, "ferretdb listening on %s\n", *listen)
	if err := f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}

// explainPlan prints `EXPLAIN QUERY PLAN` of a statement (with its JSON array of arguments) on a data file.
func explainPlan(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: ferretdb explain-plan FILE SQL [ARGS_JSON]")
	}
	var params []any
	if len(args) > 2 {
		if err := json.Unmarshal([]byte(args[2]), &params); err != nil {
			return fmt.Errorf("arguments are not a JSON array: %w", err)
		}
	}
	db, err := sql.Open("sqlite", "file:"+args[0]+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+args[1], params...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return err
		}
		fmt.Println(detail)
	}
	return rows.Err()
}

package search

import (
	"io"
	"log"
	"log/slog"

	"github.com/blevesearch/bleve/v2"
)

// SetLogger routes Bleve's own log lines (bleve.SetLog) to l at level
// Warn; nil silences them, Bleve's default. Bleve's logger is one for the
// process, so the last call wins.
//
// Caveat: scorch, Bleve's index engine, also writes a few lines (such as
// "unable to load snapshot ..., continuing") with the standard library's
// log package directly; no Bleve setting reaches those, and redirecting
// the standard logger is the application's decision, not a library's
// (kvtool discards it).
func SetLogger(l *slog.Logger) {
	if l == nil {
		bleve.SetLog(log.New(io.Discard, "", 0))
		return
	}
	bleve.SetLog(slog.NewLogLogger(l.Handler(), slog.LevelWarn))
}

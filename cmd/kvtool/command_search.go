package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/spf13/cobra"
)

type searchHit struct {
	Collection string              `json:"collection"`
	ID         string              `json:"id"`
	Score      float64             `json:"score"`
	Fragments  map[string][]string `json:"fragments,omitempty"`
}

// searchResult is the --json output of search.
type searchResult struct {
	Total uint64      `json:"total"`
	Hits  []searchHit `json:"hits"`
}

// searchUsage makes a malformed search text or query a usage error (exit
// 2, docs/KVTOOL.md).
func searchUsage(err error) error {
	switch {
	case errors.Is(err, kv.ErrSearchSyntax), errors.Is(err, kv.ErrEmptyQuery), errors.Is(err, kv.ErrQueryTooLong),
		errors.Is(err, kv.ErrUnknownSearchField), errors.Is(err, kv.ErrBadQuery), errors.Is(err, kv.ErrBadSearchOptions):
		return usageError{err}
	}
	return err
}

func newSearchCommand(g *globals) *cobra.Command {
	var colls []string
	var limit, offset int
	var highlight bool
	cmd := &cobra.Command{
		Use:   "search TEXT [--collection C] [--limit N]",
		Short: "Ranked full-text search",
		Long: `search finds the documents that match TEXT, best first. The index is
brought up to date with the store before it answers. After a restore the
index is rebuilt, which takes seconds to minutes: while search waits for
it, a writer waiting for the store goes first (search lets go of the
store, and the rebuild goes on where it stopped once the writer is done).

TEXT is words and operators:
  budget meeting    every word must occur (English stemming: "meetings"
                    finds "meeting"), in names, titles, contents,
                    summaries, transcriptions, screenshot analyses, tags
  "weekly plan"     the words in this order, within one field or element
  -draft            excludes documents with the word (or -"a phrase")
  budg*             words starting with budg
  budgt~ budgt~1    words within 2 (or 1) letter edits of budgt
  title:roadmap     the word in that field only (fields of a collection:
                    sessions name, description, summary, transcript,
                    screenshots, tags; notes title, content, summary,
                    updates, tags; tasks title, description, subtasks,
                    tags; topics, companies, contacts name, profile;
                    attachments name, description, text; a collection of
                    your own: its top-level string fields, and tags)
  a OR b            either side; OR binds tighter than the spaces, so
                    "a OR b c" is (a or b) and c
Common English words (the, and, to, ...) are not indexed: left out of
the text, and inside a phrase each stands for any one word. A malformed
TEXT, or one with nothing to look for (stop words only, or only
exclusions), is exit 2 and the message names the position. --json prints {"total":N,"hits":[...]}.`,
		Example: `  kvtool search "budget meeting"
  kvtool search '"weekly planning" -draft' --collection notes
  kvtool search 'title:roadmap OR roadm*' --limit 5 --highlight`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			for _, c := range colls {
				if _, err := kv.LookupCollection(c); err != nil {
					return err
				}
			}
			if limit < 0 || offset < 0 {
				return usagef("--limit and --offset must not be negative")
			}
			db, err := g.openIndexed(cmd.Context())
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			res, err := db.Search(cmd.Context(), args[0], kv.SearchOptions{Collections: colls, Limit: limit, Offset: offset, Highlight: highlight})
			if err != nil {
				return searchUsage(err)
			}
			hits := make([]searchHit, 0, len(res.Hits))
			for _, h := range res.Hits {
				hits = append(hits, searchHit{Collection: h.Collection, ID: h.ID, Score: h.Score, Fragments: h.Fragments})
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), searchResult{Total: res.Total, Hits: hits})
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SCORE\tCOLLECTION\tID")
			for _, h := range hits {
				fmt.Fprintf(w, "%.3f\t%s\t%s\n", h.Score, h.Collection, terminalSafe(h.ID))
				for field, frags := range h.Fragments {
					for _, f := range frags {
						fmt.Fprintf(w, "\t  %s:\t%s\n", terminalSafe(field), terminalSafe(strings.ReplaceAll(f, "\n", " ")))
					}
				}
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d of %d matches\n", len(hits), res.Total)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&colls, "collection", nil, "only this collection (repeatable)")
	cmd.Flags().IntVar(&limit, "limit", 20, "at most N hits")
	cmd.Flags().IntVar(&offset, "offset", 0, "skip the first N hits")
	cmd.Flags().BoolVar(&highlight, "highlight", false, "show matching fragments")
	return cmd
}

// indexPoll is how long openIndexed waits for the index between two
// looks for a waiting writer; yieldPause is how long it stays closed for
// one (a waiting writer tries the lock every 16 ms at most).
var indexPoll, yieldPause = 100 * time.Millisecond, 100 * time.Millisecond

// openIndexed opens the store read-only for a command that reads the
// full-text index, and waits for the index to hold every change. Its
// rebuild (after a restore, or of an index that was dropped) takes
// seconds to minutes, under the store lock a read-only open holds, which
// keeps writers out: when one waits (kv.DB.WriterWaiting), the store is
// closed, which interrupts the rebuild where the next open resumes it,
// and opened again once the writer is through.
func (g *globals) openIndexed(ctx context.Context) (*kv.DB, error) {
	for {
		db, err := g.openRO()
		if err != nil {
			return nil, err
		}
		yield, err := waitIndexOrWriter(ctx, db)
		if err == nil && !yield {
			return db, nil
		}
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(yieldPause):
		}
	}
}

// waitIndexOrWriter waits for db's index to hold every change; it returns
// yield = true as soon as a writer waits for the store instead.
func waitIndexOrWriter(ctx context.Context, db *kv.DB) (yield bool, err error) {
	seq, err := db.LastSeq(ctx)
	if err != nil {
		return false, err
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, indexPoll)
		err := db.WaitIndexed(wctx, seq)
		cancel()
		switch {
		case err == nil, errors.Is(err, kv.ErrNoSearch):
			return false, nil // search says so, if it is off
		case !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
			return false, err
		case db.WriterWaiting():
			return true, nil
		}
	}
}

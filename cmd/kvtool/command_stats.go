package main

import (
	"fmt"
	"slices"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newStatsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "stats",
		Example: `  kvtool stats
  kvtool --json stats`,
		Short: "Counts, logical and stored bytes, file and blob figures",
		Long: `stats prints per collection the document count, logical bytes (the
documents as compact JSON) and stored bytes (compressed, as on disk), the
compression ratio, the file size and free pages, and the attachment blob
figures: distinct blobs, logical bytes (sum over attachments), physical
bytes (sum over distinct blobs) and so the deduplication saving. The
bookkeeping of sync (collections replica_*) is one line, "(sync state)",
and in --json the object sync_state, not among the collections.`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			db, err := g.openRO()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			st, err := db.Stats(cmd.Context())
			if err != nil {
				return err
			}
			// Sync's bookkeeping (replica_*) is not the user's data: it is
			// listed apart, under sync_state, and counted in the totals.
			syncState := map[string]kv.CollectionStats{}
			for name, cs := range st.Collections {
				if replica.IsStateCollection(name) {
					syncState[name] = cs
					delete(st.Collections, name)
				}
			}
			if g.json {
				if len(syncState) == 0 {
					return printJSON(cmd.OutOrStdout(), st)
				}
				return printJSON(cmd.OutOrStdout(), struct {
					*kv.Stats
					SyncState map[string]kv.CollectionStats `json:"sync_state"`
				}{st, syncState})
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(w, "COLLECTION\tCOUNT\tLOGICAL\tSTORED\t")
			for _, c := range collectionOrder(st.Collections) {
				cs := st.Collections[c]
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t\n", c, cs.Count, humanBytes(int64(cs.LogicalBytes)), humanBytes(int64(cs.StoredBytes)))
			}
			if len(syncState) > 0 {
				var n, lb, sb uint64
				for _, cs := range syncState {
					n, lb, sb = n+uint64(cs.Count), lb+cs.LogicalBytes, sb+cs.StoredBytes
				}
				fmt.Fprintf(w, "(sync state)\t%d\t%s\t%s\t\n", n, humanBytes(int64(lb)), humanBytes(int64(sb)))
			}
			fmt.Fprintf(w, "total\t\t%s\t%s\t\n", humanBytes(int64(st.LogicalBytes)), humanBytes(int64(st.StoredBytes)))
			if err := w.Flush(); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if st.LogicalBytes > 0 {
				fmt.Fprintf(out, "stored/logical %.1f%% (%.1f%% smaller than JSON)\n", 100*st.CompressionRatio, 100*(1-st.CompressionRatio))
			}
			fmt.Fprintf(out, "file %s, free %s, change log %d entries (last sequence %d)\n", humanBytes(st.FileBytes), humanBytes(st.FreeBytes), st.ChangeLog, st.LastSeq)
			b := st.Blobs
			saving := 0.0
			if b.LogicalBytes > 0 {
				saving = 100 * (1 - float64(b.PhysicalBytes)/float64(b.LogicalBytes))
			}
			fmt.Fprintf(out, "blobs %d, logical %s, physical %s (dedup saves %.1f%%)\n", b.Count, humanBytes(int64(b.LogicalBytes)), humanBytes(int64(b.PhysicalBytes)), saving)
			return nil
		},
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// collectionOrder returns the built-in collections, then the other names
// of m (user collections), sorted.
func collectionOrder[V any](m map[string]V) []string {
	out := kv.BuiltinCollections()
	var user []string
	for n := range m {
		if !slices.Contains(out, n) {
			user = append(user, n)
		}
	}
	slices.Sort(user)
	return append(out, user...)
}

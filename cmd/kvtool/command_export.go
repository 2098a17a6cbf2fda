package main

import (
	"bufio"
	"fmt"
	"io"

	"github.com/cairnkv/cairn/internal/fsutil"
	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
	"github.com/spf13/cobra"
)

func newExportCommand(g *globals) *cobra.Command {
	var out string
	var compact, salvage bool
	cmd := &cobra.Command{
		Use: "export [-o FILE] [--salvage]",
		Example: `  kvtool export -o export.json
  kvtool export --salvage -o salvaged.json`,
		Short: "Write the app's export file (format 1.0.0)",
		Long: `export writes the whole store as the app's export file, format 1.0.0
(topics, companies, contacts, notes, tasks, sessions, aiSettings,
preferences, exportedAt, version, appVersion), plus Cairn's extra keys
(settings, attachments metadata, extras) that the old app ignores. It reads
one consistent snapshot and streams: documents are never all in memory.
The store's sync state is not exported (import ignores it too): a store
imported from the file syncs as a new device.

With -o FILE a regular file is replaced durably and atomically (whole or
not at all), keeping its permissions (a new one is 0600); a symbolic link,
FIFO or device is written through, as a shell redirect would, never
replaced. A FILE inside the store directory is refused.

A store holding a damaged document (a value that fails its checksum) is
not exported: export writes nothing, names the damaged documents and exits
3. With --salvage it writes every document that can still be read, names
the damaged ones on stderr (left out of the file) and exits 3; import
reads the file back. When bbolt's page structure is damaged (the store
does not open, or a page is), --salvage reads the pages that can still be
read, from the file itself, through a copy in the temporary directory, and
names the pages it skipped.`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if out != "" && out != "-" {
				if err := g.checkOutput(out); err != nil {
					return err
				}
			}
			var db *kv.DB
			var damaged []kv.Problem
			if salvage {
				// A store whose pages are damaged is read through a copy of
				// its readable pages; the pages skipped are named below.
				db, damaged, err = kv.OpenSalvage(cmd.Context(), g.db, g.options(&kv.Options{}))
			} else {
				db, err = g.openRO()
			}
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			if !salvage {
				// A damaged page graph (a page of one collection reached
				// from another's) would be exported as data.
				if err := db.CheckPageGraph(cmd.Context()); err != nil {
					return fmt.Errorf("export: %w (export --salvage writes what still reads)", err)
				}
			}
			var written countingWriter
			write := func(w io.Writer) error {
				written = countingWriter{w: w}
				bw := bufio.NewWriterSize(&written, 1<<20)
				var err error
				if salvage {
					var docs []kv.Problem
					docs, err = legacy.SalvageExport(cmd.Context(), db, bw, compact)
					damaged = append(damaged, docs...)
				} else {
					err = legacy.ExportFrom(cmd.Context(), db, bw, compact)
				}
				if err != nil {
					return err
				}
				return bw.Flush()
			}
			if out == "" || out == "-" {
				err = write(cmd.OutOrStdout())
			} else {
				err = fsutil.WriteOutput(out, write)
			}
			if err != nil {
				return err
			}
			if g.json && out != "" && out != "-" {
				// stdout is free: say what was written (docs/KVTOOL.md: one JSON document).
				if err := printJSON(cmd.OutOrStdout(), exportOutput{Output: out, Bytes: written.n, Damaged: len(damaged)}); err != nil {
					return err
				}
			}
			if len(damaged) == 0 {
				return nil
			}
			left, misfiled, pages := 0, 0, 0
			for _, p := range damaged {
				switch p.Kind {
				case "misfiled":
					misfiled++
					fmt.Fprintf(cmd.ErrOrStderr(), "damaged key, written under the document's id: %s\n", p)
				case "bbolt", "meta":
					pages++
					fmt.Fprintf(cmd.ErrOrStderr(), "damaged pages: %s\n", p)
				default:
					left++
					fmt.Fprintf(cmd.ErrOrStderr(), "damaged, left out: %s\n", p)
				}
			}
			msg := fmt.Sprintf("export --salvage: %d damaged document(s) left out of the export", left)
			if misfiled > 0 {
				msg += fmt.Sprintf(", %d under a damaged key written under their own id", misfiled)
			}
			if pages > 0 {
				msg += fmt.Sprintf(", with whatever the %d page problem(s) named above left unreadable", pages)
			}
			return integrityError{msg + "; every other document was written"}
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	cmd.Flags().BoolVar(&compact, "compact", false, "compact JSON instead of the app's 2-space indentation")
	cmd.Flags().BoolVar(&salvage, "salvage", false, "write every readable document of a damaged store and name the damaged ones (exit 3)")
	return cmd
}

// exportOutput is what export --json -o FILE prints.
type exportOutput struct {
	Output  string `json:"output"`
	Bytes   int64  `json:"bytes"`
	Damaged int    `json:"damaged"` // documents left out (--salvage)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

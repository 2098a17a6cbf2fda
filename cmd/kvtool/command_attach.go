package main

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairnkv/cairn/internal/fsutil"
	"github.com/cairnkv/cairn/kv"
	"github.com/spf13/cobra"
)

func newAttachCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use: "attach",
		Example: `  kvtool attach add photo.jpg --name holiday.jpg
  kvtool attach get a1 -o photo.jpg`,
		Short: "Add and get attachments (content-addressed, deduplicated)",
		Long: `attach stores attachment contents once, addressed by their SHA-256, in
<store>/blobs, with an attachment document in the attachments collection
that holds the hash, size and metadata; identical content added twice is
stored once and reference-counted.`,
		Args: cobra.ArbitraryArgs,
		RunE: needSubcommand,
	}
	cmd.AddCommand(newAttachAdd(g), newAttachGet(g))
	return cmd
}

func newAttachAdd(g *globals) *cobra.Command {
	var id, name, mimeType, typ string
	cmd := &cobra.Command{
		Use: "add FILE [--id ID] [--name NAME] [--mime TYPE]",
		Example: `  kvtool attach add photo.jpg
  kvtool attach add report.pdf --id a1 --name report.pdf --mime application/pdf`,
		Short: "Store a file's content once and create an attachment document",
		Long: `add streams FILE into the blob store (a large video never sits in
memory), durably, then creates the attachment document (id generated
unless --id, name from the file name unless --name, MIME type from the
extension unless --mime) with the content's hash and size. It prints the
document.

With --id of an existing attachment it sets the content of that
attachment and keeps the document's other fields (thumbnail, dimensions,
aiAnalysis, ...): only --name, --mime and --type, when given, change it.
This is how the content of an attachment imported from an export file is
added, and how a damaged blob is repaired from its source file: the
content is hashed, and a stored copy that does not match is replaced.`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			path := args[0]
			for _, f := range []string{"id", "name", "mime", "type"} {
				if cmd.Flags().Changed(f) && cmd.Flags().Lookup(f).Value.String() == "" {
					return usagef("attach add: --%s is empty (leave it out for the default)", f)
				}
			}
			fi, err := os.Stat(path)
			if err != nil {
				return fmt.Errorf("attach add: %w", err)
			}
			if !fi.Mode().IsRegular() {
				return fmt.Errorf("attach add: %s is not a regular file", path)
			}
			f, err := os.Open(path)
			if err != nil {
				return fmt.Errorf("attach add: %w", err)
			}
			defer f.Close()
			db, err := g.openRW()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			// An existing attachment keeps its fields: only the flags
			// given change its name, MIME type and type.
			exists := false
			if id != "" {
				_, _, gerr := db.GetHeader(cmd.Context(), "attachments", id)
				exists = gerr == nil
			}
			meta := kv.Document{}
			if name == "" && !exists {
				name = filepath.Base(path)
			}
			if mimeType == "" && !exists {
				mimeType = mime.TypeByExtension(strings.ToLower(filepath.Ext(path)))
				if mimeType == "" {
					mimeType = "application/octet-stream"
				}
			}
			if typ == "" && mimeType != "" && !exists {
				typ = typeOf(mimeType)
			}
			for k, v := range map[string]string{"name": name, "mimeType": mimeType, "type": typ} {
				if v != "" {
					meta[k] = v
				}
			}
			var doc kv.Document
			if id != "" {
				meta["id"] = id
				doc, err = db.MergeAttachment(cmd.Context(), f, meta)
			} else {
				doc, err = db.AddAttachment(cmd.Context(), f, meta)
			}
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), doc)
			}
			fmt.Fprintln(cmd.OutOrStdout(), terminalSafe(fmt.Sprintf("attachment %v: %v, %s, sha256 %v", doc["id"], doc["name"], humanBytes(fi.Size()), doc["hash"])))
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "attachment id (default: generated)")
	cmd.Flags().StringVar(&name, "name", "", "attachment name (default: the file name)")
	cmd.Flags().StringVar(&mimeType, "mime", "", "MIME type (default: from the extension)")
	cmd.Flags().StringVar(&typ, "type", "", "attachment type: image, video, audio, file, screenshot, ... (default: from the MIME type)")
	return cmd
}

func typeOf(mimeType string) string {
	switch {
	case strings.HasPrefix(mimeType, "image/"):
		return "image"
	case strings.HasPrefix(mimeType, "video/"):
		return "video"
	case strings.HasPrefix(mimeType, "audio/"):
		return "audio"
	}
	return "file"
}

func newAttachGet(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use: "get ID [-o FILE]",
		Example: `  kvtool attach get a1 -o report.pdf
  kvtool attach get a1 > report.pdf`,
		Short: "Write an attachment's content, verified",
		Long: `get writes the content of attachment ID to stdout, or to FILE with -o: a
regular file is replaced durably and atomically (whole or not at all),
keeping its permissions (a new one is 0600); a symbolic link, FIFO or
device (/dev/null) is written through, as a shell redirect would, never
replaced. A FILE inside the store directory is refused.

The content is hashed while it streams; if it does not match its hash, get
fails naming the attachment. A regular FILE is then left as it was; on
stdout, a FIFO or a device, the bytes already written may be wrong.`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if out != "" && out != "-" {
				if err := g.checkOutput(out); err != nil {
					return err
				}
			}
			db, err := g.openRO()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			r, _, err := db.OpenAttachment(cmd.Context(), args[0])
			if err != nil {
				return blobAdvice(err, g.db, args[0])
			}
			defer r.Close()
			// The content is checked against its hash as it is read, the
			// verdict coming at its end: read it whole into a temporary
			// file first, so that a damaged blob writes nothing to stdout
			// or through a link, only the error.
			tmp, _, drop, err := unlinkedTemp("kvtool-attach-*")
			if err != nil {
				return err
			}
			defer drop()
			defer tmp.Close() // read only by then
			if _, err := io.Copy(tmp, r); err != nil {
				var ee *kv.EntityError
				if errors.As(err, &ee) {
					return blobAdvice(ee, g.db, args[0])
				}
				return blobAdvice(err, g.db, args[0])
			}
			if _, err := tmp.Seek(0, io.SeekStart); err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = io.Copy(cmd.OutOrStdout(), tmp)
				return err
			}
			err = fsutil.WriteOutput(out, func(w io.Writer) error {
				_, err := io.Copy(w, tmp)
				return err
			})
			var ee *kv.EntityError
			if errors.As(err, &ee) {
				return ee
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	return cmd
}

func newGCCommand(g *globals) *cobra.Command {
	var recount bool
	cmd := &cobra.Command{
		Use: "gc [--recount]",
		Example: `  kvtool gc
  kvtool --json gc --recount`,
		Short: "Delete blobs no attachment and no retained backup refers to",
		Long: `gc deletes blob files that no attachment document and no retained backup
refers to (orphans left by a crash between writing a blob and committing
its document, and blobs whose last backup has rotated out), and the debris
of interrupted writes. --recount first rebuilds every reference count from
the attachment documents.`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			db, err := g.openExisting()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			res, err := db.GC(cmd.Context(), recount)
			if err != nil {
				return err
			}
			// A blob kept because attachments refer to it although its
			// stored count is 0 is damage gc found and did not act on.
			var miscounted error
			if n := len(res.Miscounted); n > 0 {
				miscounted = integrityError{fmt.Sprintf("gc kept %d blob(s) that attachments refer to although their stored reference count is 0 (%s): the counts are damaged; kvtool --db %s gc --recount repairs them", n, strings.Join(res.Miscounted[:min(n, 3)], ", "), g.db)}
			}
			if g.json {
				if err := printJSON(cmd.OutOrStdout(), res); err != nil {
					return err
				}
				return miscounted
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %d blob(s), %s; %d temporary file(s)", res.Deleted, humanBytes(res.Bytes), res.Temp)
			if recount {
				fmt.Fprintf(cmd.OutOrStdout(), "; %d reference count(s) corrected", res.Recounted)
			}
			fmt.Fprintln(cmd.OutOrStdout())
			if aside := kv.AsideFiles(g.db); res.KeptAside > 0 && len(aside) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "kept %d unreferenced blob(s): the damaged data file(s) a restore set aside (%s) may hold the only attachments that refer to them; salvage them first (copy one to DIR/data.db, then kvtool --db DIR export --salvage -o FILE and import FILE), then remove them\n", res.KeptAside, strings.Join(aside, ", "))
			} else if res.KeptAside > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "kept %d unreferenced blob(s): a meta page of data.db was damaged, and the commit it held may be what refers to them; kvtool export --salvage -o FILE reads that commit when it can\n", res.KeptAside)
			}
			return miscounted
		},
	}
	cmd.Flags().BoolVar(&recount, "recount", false, "rebuild reference counts from the documents first")
	return cmd
}

// blobAdvice gives a damaged or missing content file of attachment id its
// own way back: a backup holds no attachment contents, so restoring one
// cannot repair it (round 8, damage8 #5); adding the file again from its
// source does. Other errors are returned as they are.
func blobAdvice(err error, dir, id string) error {
	var ee *kv.EntityError
	if !errors.Is(err, kv.ErrCorrupt) || !errors.As(err, &ee) || ee.Collection != "attachments" {
		return err
	}
	if ee.Field != "hash" && !strings.Contains(err.Error(), "content") && !strings.Contains(err.Error(), "blob") {
		return err // the document itself is damaged: the store's way back
	}
	return fmt.Errorf("%w; the way back: kvtool --db %s attach add FILE --id %s adds the attachment's file again from its source (backups hold no attachment contents)", err, fsutil.ShellQuote(dir), fsutil.ShellQuote(id))
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cairnkv/cairn/internal/fsutil"
	"github.com/cairnkv/cairn/kv"
	"github.com/spf13/cobra"
)

// Exit codes (docs/KVTOOL.md).
const (
	exitOK        = 0
	exitError     = 1
	exitUsage     = 2
	exitIntegrity = 3
)

// usageError marks a mistake in how kvtool was called (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// integrityError marks a completed check that found problems (exit 3).
type integrityError struct{ msg string }

func (e integrityError) Error() string { return e.msg }

// globals are the flags every command shares.
type globals struct {
	db      string
	json    bool
	timeout time.Duration
	stdin   io.Reader
	stderr  io.Writer
	// helpErr is the usage error of a --help that named no command
	// (kvtool bogus --help): a help function cannot return it.
	helpErr error
}

func defaultDB() string {
	if v := os.Getenv("CAIRN_DB"); v != "" {
		return v
	}
	return "./cairn-data"
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) (*cobra.Command, *globals) {
	g := &globals{stdin: stdin, stderr: stderr}
	root := &cobra.Command{
		Use:   "kvtool",
		Short: "Inspect and operate a Cairn store",
		Long: `kvtool inspects and operates a Cairn store: an embedded entity store for
local-first apps (sessions, notes, tasks, topics, companies, contacts,
attachments, settings) on one bbolt file with indexes, full-text search,
verified backups and deduplicated attachments.

The store directory is --db, else $CAIRN_DB, else ./cairn-data.
With --json every command prints exactly one JSON document on stdout.
Exit codes: 0 success, 1 error, 2 usage error, 3 integrity problem found.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.db, "db", defaultDB(), "store directory; $CAIRN_DB, when set, is the default")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print one JSON document on stdout")
	root.PersistentFlags().DurationVar(&g.timeout, "timeout", 5*time.Second, "how long to wait for the store's file lock (0: do not wait)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if g.timeout < 0 {
			return usagef("--timeout %v: a wait cannot be negative (0 does not wait)", g.timeout)
		}
		return nil
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if strings.HasPrefix(err.Error(), "unknown shorthand flag") && (c.Name() == "search" || c.Name() == "query") {
			// "kvtool search -draft": an excluded word taken for flags.
			err = fmt.Errorf("%w (text that starts with - goes after --: kvtool %s [flags] -- -word ...)", err, c.Name())
		}
		return usageError{err}
	})
	root.Args = cobra.ArbitraryArgs
	root.RunE = needSubcommand
	// Help for a command that does not exist is a usage error (exit 2),
	// as the command itself would be, not the root's help and exit 0.
	help := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		if rest := c.Flags().Args(); c.HasAvailableSubCommands() && len(rest) > 0 {
			g.helpErr = needSubcommand(c, rest)
			return
		}
		help(c, args)
	})
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || cmd == nil {
				return needSubcommand(root, args)
			}
			if len(rest) > 0 {
				return needSubcommand(cmd, rest)
			}
			cmd.InitDefaultHelpFlag() // as cobra's own help command does
			return cmd.Help()
		},
	})
	root.AddCommand(
		// Read and write documents.
		newPutCommand(g), newGetCommand(g), newPatchCommand(g), newDeleteCommand(g),
		newLsCommand(g), newQueryCommand(g), newSearchCommand(g),
		// Inspect the store.
		newStatsCommand(g), newBucketsCommand(g), newDumpCommand(g), newCheckCommand(g),
		// Operate it.
		newBackupCommand(g), newCompactCommand(g), newReindexCommand(g), newGCCommand(g),
		newIndexCommand(g),
		newAttachCommand(g),
		// Move data in and out.
		newExportCommand(g), newImportCommand(g), newMigrateCommand(g),
		// Beyond one machine.
		newSyncCommand(g),
		// Look and try.
		newUICommand(g), newDemoCommand(g),
	)
	return root, g
}

// needSubcommand is the RunE of a command that only groups others (the
// root, backup, attach): without a subcommand, or with one it does not
// know, it is a usage error naming what it has.
func needSubcommand(cmd *cobra.Command, args []string) error {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	if len(args) == 0 {
		return usagef("%s needs a subcommand: %s", cmd.CommandPath(), strings.Join(names, ", "))
	}
	return usagef("unknown subcommand %q for %s (subcommands: %s)", args[0], cmd.CommandPath(), strings.Join(names, ", "))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdin, stdout, stderr)
}

// servesAnnotation marks a command that runs until interrupted (ui, sync
// without --once): an interrupt is how it ends, not news.
const servesAnnotation = "serves"

// runContext runs kvtool until ctx ends a command that serves (ui) or
// the command returns, and returns the exit code.
func runContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	stderr = &syncWriter{w: stderr}
	root, g := newRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		err = g.helpErr
	}
	if err == nil {
		if ctx.Err() != nil && cmd != nil && cmd.Annotations[servesAnnotation] == "" {
			// main said it was stopping; the work had been committed.
			fmt.Fprintln(stderr, "kvtool: the interrupt came after the work was committed, which it cannot undo: the command completed")
		}
		return exitOK
	}
	var ue usageError
	var ie integrityError
	switch {
	case errors.As(err, &ie), errors.Is(err, kv.ErrCorrupt):
		// docs/KVTOOL.md: a command that stops because stored data is damaged
		// exits 3, as a check that finds a problem does.
		fmt.Fprintln(stderr, "kvtool:", linesSafe(message(err)))
		switch {
		case strings.Contains(err.Error(), "kvtool"):
		case errors.As(err, &ie), errors.Is(err, kv.ErrBackupInvalid):
			// What check or a backup's verification found, which they
			// printed: not damage to the store.
			fmt.Fprintln(stderr, "kvtool: kvtool check names every problem and the way back from it")
		default:
			// The library's errors say what is damaged in the store; the
			// way back is the store's to tell.
			fmt.Fprintln(stderr, "kvtool:", wayBack(g.db))
		}
		return exitIntegrity
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "kvtool:", linesSafe(message(err)))
		fmt.Fprintln(stderr, "Run 'kvtool --help' for usage.")
		return exitUsage
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "kvtool: interrupted:", linesSafe(message(err)))
		return exitError
	default:
		fmt.Fprintln(stderr, "kvtool:", linesSafe(message(err)))
		return exitError
	}
}

// wayBack is the advice for a command refused for damage to the store in
// dir: restore its newest verified backup when it has one, else salvage
// what still reads; check names every problem.
func wayBack(dir string) string {
	if ms, err := kv.ListBackups(dir); err == nil {
		for _, m := range ms {
			if m.Verified && m.Reason != kv.ReasonDamaged {
				return fmt.Sprintf("the way back: kvtool --db %s backup restore %s --yes restores the newest verified backup (taken %s; kvtool --db %s export --salvage -o FILE first saves what still reads); kvtool check names every problem", fsutil.ShellQuote(dir), m.Name, m.Time.UTC().Format(time.RFC3339), fsutil.ShellQuote(dir))
			}
		}
	}
	return fmt.Sprintf("the way back: kvtool --db %s export --salvage -o FILE saves what still reads, for kvtool import FILE into a new store (the store has no verified backup); kvtool check names every problem", fsutil.ShellQuote(dir))
}

// pkgPrefix matches the name of a Go package of the store (or of the
// libraries kvtool reports through) where an error message chain names it:
// at the start, after a ": " or after a "(".
var pkgPrefix = regexp.MustCompile(`(^|: |\()(?:cairn|kv|buckets|schema|secondary|snapshot|search|txn|legacy|jsonx|blobstore|fsutil|docmodel): `)

// message is err's text for a person: the package names the layers put in
// front of their messages ("cairn: query sessions: secondary: bad query")
// are dropped, leaving what was wrong and where ("query sessions: bad
// query"). The error itself is unchanged: errors.Is still decides.
func message(err error) string {
	msg := err.Error()
	for {
		out := pkgPrefix.ReplaceAllString(msg, "$1")
		if out == msg {
			return out
		}
		msg = out
	}
}

// args returns a cobra.PositionalArgs that reports a usage error.
func argsRange(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || (max >= 0 && len(args) > max) {
			if max == min {
				return usagef("%s takes %d argument(s), got %d", cmd.CommandPath(), min, len(args))
			}
			if max < 0 {
				return usagef("%s takes at least %d argument(s), got %d", cmd.CommandPath(), min, len(args))
			}
			return usagef("%s takes %d to %d arguments, got %d", cmd.CommandPath(), min, max, len(args))
		}
		return nil
	}
}

// openRO opens the store read-only; it never creates one.
func (g *globals) openRO() (*kv.DB, error) {
	return kv.Open(g.db, g.options(&kv.Options{ReadOnly: true}))
}

// openRW opens the store for writing, creating it if needed.
func (g *globals) openRW() (*kv.DB, error) {
	return kv.Open(g.db, g.options(&kv.Options{}))
}

// openExisting opens an existing store for writing; it never creates one.
func (g *globals) openExisting() (*kv.DB, error) {
	return kv.Open(g.db, g.options(&kv.Options{MustExist: true}))
}

// storeExists reports whether --db holds a store (its data file).
func (g *globals) storeExists() bool {
	fi, err := os.Lstat(filepath.Join(g.db, kv.DataFile))
	return err == nil && fi.Mode().IsRegular()
}

// scratchStore opens an empty store in a new temporary directory, and
// returns a function that closes and removes it. import and migrate check
// their input against one when --db holds no store yet, so that a refused
// input, a dry run or a "no" at the prompt does not leave a store behind.
func scratchStore() (*kv.DB, func(), error) {
	dir, err := os.MkdirTemp("", "kvtool-scratch-")
	if err != nil {
		return nil, nil, fmt.Errorf("a temporary store to check the input against: %w", err)
	}
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		_ = os.RemoveAll(dir) // nothing in it yet
		return nil, nil, fmt.Errorf("a temporary store to check the input against: %w", err)
	}
	return db, func() {
		_ = db.Close()        // a scratch store: nothing of it is kept
		_ = os.RemoveAll(dir) // likewise
	}, nil
}

// options adds the global flags and a progress bar for long work during
// open (index backfills, search rebuilds) when stderr is a terminal.
func (g *globals) options(o *kv.Options) *kv.Options {
	o.Timeout = g.timeout
	if o.Timeout == 0 {
		o.Timeout = time.Millisecond // kv's 0 is its default wait; --timeout 0 is none
	}
	o.EagerSearch = true  // docs/KVTOOL.md: every command brings derived data up to date
	o.NoAutoBackup = true // risky commands back up first; a backup on every open and close would copy the store per command
	o.Progress = g.progress()
	if g.stderr != nil {
		o.Logger = slog.New(&warnings{mu: new(sync.Mutex), w: g.stderr})
	}
	return o
}

// warnings is the store's logger in kvtool: what it warns of (a search
// index the disk damaged and that was rebuilt, a collection left out of the
// index, a meta page repaired) on stderr, one line each; its information
// lines are not printed.
type warnings struct {
	mu    *sync.Mutex // shared by the handlers WithAttrs makes: one line at a time
	w     io.Writer
	attrs []slog.Attr
}

func (h *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *warnings) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("kvtool: warning: ")
	b.WriteString(r.Message)
	sep := " ("
	add := func(a slog.Attr) bool {
		if a.Key == "store" {
			return true // the --db the user gave
		}
		b.WriteString(sep + a.Key + ": " + a.Value.String())
		sep = ", "
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	if sep == ", " {
		b.WriteString(")")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := fmt.Fprintln(h.w, terminalSafe(b.String()))
	return err
}

func (h *warnings) WithAttrs(as []slog.Attr) slog.Handler {
	return &warnings{mu: h.mu, w: h.w, attrs: append(slices.Clip(h.attrs), as...)}
}

func (h *warnings) WithGroup(string) slog.Handler { return h }

// progress returns a function reporting each stage of long work on
// stderr (see progress: a bar on a terminal, plain lines elsewhere).
func (g *globals) progress() func(stage string, done, total int) {
	return g.progressIn(false)
}

// progressIn is progress with done and total in bytes when bytes is set.
func (g *globals) progressIn(bytes bool) func(stage string, done, total int) {
	if g.stderr == nil {
		return nil
	}
	bars := map[string]*progress{}
	var mu sync.Mutex // the search index reports from its own goroutine
	return func(stage string, done, total int) {
		if total <= 0 {
			return // nothing to do: no bar
		}
		mu.Lock()
		defer mu.Unlock()
		b := bars[stage]
		if b == nil {
			b = newProgress(g.stderr, stage, total)
			b.bytes = bytes
			bars[stage] = b
		}
		b.total = total
		b.set(done)
		if done >= total {
			b.done()
			delete(bars, stage)
		}
	}
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(jsonTerminalSafe(buf.Bytes()))
	return err
}

// jsonTerminalSafe returns the JSON text b with DEL, the C1 controls and
// the bidirectional overrides and isolates written as \u escapes, which
// JSON reads as the same characters: encoding/json escapes the C0
// controls only, and a terminal acts on the others. Outside strings JSON
// text is ASCII, so only string contents change, and not their value.
func jsonTerminalSafe(b []byte) []byte {
	if !bytes.ContainsFunc(b, func(r rune) bool { return r >= 0x7f && unsafeRune(r) && r != utf8.RuneError }) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r >= 0x7f && unsafeRune(r) && r != utf8.RuneError {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

func closeDB(db *kv.DB, err *error) {
	if cerr := db.Close(); cerr != nil && *err == nil {
		*err = cerr
	}
}

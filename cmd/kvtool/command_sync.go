package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
	"github.com/spf13/cobra"
)

// natsFlags are the flags of every command that talks to NATS.
type natsFlags struct {
	url   string
	creds string
	wait  bool // wait for a server unreachable at the start (sync)
}

func (f *natsFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.url, "nats", os.Getenv("CAIRN_NATS"), "NATS server URL (nats://[user:pass@|token@]host:4222, tls:// for TLS; several comma-separated); $CAIRN_NATS is the default")
	cmd.Flags().StringVar(&f.creds, "nats-creds", "", "NATS credentials file (JWT and nkey seed)")
}

func (f *natsFlags) connect() (*replica.Conn, error) {
	if f.url == "" {
		return nil, usagef("--nats URL is required (or set $CAIRN_NATS)")
	}
	return replica.Connect(f.url, &replica.ConnectOptions{CredsFile: f.creds, Name: "kvtool", WaitForServer: f.wait})
}

// onceReconnects is how often a command that must end (sync --once,
// backup push and pull) tries a lost connection again, 250ms apart,
// before it gives up.
const onceReconnects = 20

// onceRetryFor is how long sync --once tries again a sync that fails on
// the way to a server it is connected to (a leader being elected).
const onceRetryFor = 10 * time.Second

// connectOnce connects for a command that must end: a connection lost
// for good (onceReconnects failed) cancels the context it returns, whose
// cause says so, so that the command fails instead of waiting forever.
func (f *natsFlags) connectOnce(ctx context.Context) (*replica.Conn, context.Context, context.CancelFunc, error) {
	if f.url == "" {
		return nil, ctx, func() {}, usagef("--nats URL is required (or set $CAIRN_NATS)")
	}
	nc, err := replica.Connect(f.url, &replica.ConnectOptions{CredsFile: f.creds, Name: "kvtool", MaxReconnects: onceReconnects, WaitForServer: f.wait})
	if err != nil {
		return nil, ctx, func() {}, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	lost := fmt.Errorf("lost the connection to the NATS server %s (tried again %d times)", replica.Scrub(f.url), onceReconnects)
	nc.SetClosedHandler(func(*replica.Conn) { cancel(lost) })
	return nc, ctx, func() { cancel(nil) }, nil
}

// causeOf is err, or, when ctx was cancelled with a cause (a connection
// lost for good: connectOnce), that cause: what failed after it is only
// its consequence.
func causeOf(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		if c := context.Cause(ctx); c != nil && c != ctx.Err() {
			return c
		}
	}
	return err
}

func newSyncCommand(g *globals) *cobra.Command {
	var nf natsFlags
	var pf passphraseFlag
	var once bool
	var device, group string
	var interval time.Duration
	var replicas int
	cmd := &cobra.Command{
		Use:         "sync --nats URL [--once] [--device NAME] [--group NAME] [--passphrase-file F]",
		Annotations: map[string]string{servesAnnotation: "yes"},
		Example: `  kvtool sync --nats nats://127.0.0.1:4222 --once
  kvtool sync --nats nats://127.0.0.1:4222 --device laptop`,
		Short: "Replicate the store with other devices through NATS JetStream",
		Long: `sync replicates this store with every other store syncing through the same
NATS JetStream server and group: it pushes local changes and pulls the
others'. Per top-level field the later edit wins (hybrid logical clocks,
ties by device name); a concurrent edit that lost is kept as a conflict
(kvtool sync conflicts); deletes win over edits that had not seen them.

The device name and group are recorded in the store at the first sync the
group accepts (default name: a random one) and cannot change; a refused
sync (a wrong or missing passphrase) records nothing. With --once, sync returns when caught up both
ways and prints {"pushed":N,"pulled":N,"conflicts":N}; a connection lost
for good (20 reconnects, 250ms apart, failed) ends it with exit 1. Without
--once, it keeps
syncing (after every local commit and every remote change) until
interrupted, printing one such line per sync that moved anything. A
continuous sync outlives a lost connection or a server restart: it retries,
backing off up to its interval; a bad message or a store error ends it. A
message whose clock is more than a day ahead of this machine's is refused
(exit 1), and pulling waits at it.

With --passphrase-file F (or $` + passphraseEnv + `) the group is encrypted end to
end: changes and attachment contents are sealed (Argon2id,
XChaCha20-Poly1305) before they leave the device, and the server sees only
ciphertext and device names. The first device of a group decides whether
it is encrypted; a wrong or missing passphrase, or a passphrase in a group
that is not encrypted, is refused before anything is applied.

A store restored from a backup (or whose import was undone) keeps its
device name: its next sync notices that the store went back, numbers its
messages anew, and pulls back the changes it had published since.

Messages removed from the stream before this store read them (a purge,
the stream's limits) are reported: "missed":N in the output and a warning
on stderr; their changes are missing from this store. A stream that is
not the one this store last synced with (a server that lost its store, a
stream deleted and created again) is read from its start, and the store
publishes again every document it holds: "stream_reset":true and
"resent":N in the output, and a warning on stderr.

Credentials in the URL are never printed.`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if err := replica.CheckNames(group, device); err != nil {
				return err // before the store is opened, or created
			}
			pass, err := pf.get(false)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var nc *replica.Conn
			// A server unreachable at the start is waited for like a
			// lost connection: for good after onceReconnects with
			// --once, forever without.
			nf.wait = true
			if once {
				var done context.CancelFunc
				nc, ctx, done, err = nf.connectOnce(ctx)
				defer done()
			} else {
				nc, err = nf.connect()
			}
			if err != nil {
				return err
			}
			defer nc.Close()
			db, err := g.openRW()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			if !once {
				var stop context.CancelFunc
				ctx, stop = signal.NotifyContext(ctx, os.Interrupt)
				defer stop()
			}
			// Failures on the way to the server (a restart, a publish cut
			// by a disconnect) are tried again: with --once until the
			// connection is lost for good (or they go on onceRetryFor);
			// without, until interrupted.
			giveUp := time.Duration(0)
			if once {
				giveUp = onceRetryFor
			}
			var r *replica.Replica
			err = replica.Retry(ctx, giveUp, func() (err error) {
				r, err = replica.New(ctx, db, nc, &replica.Options{Device: device, Group: group, Replicas: replicas, Passphrase: pass})
				return err
			})
			if err != nil && !once && ctx.Err() != nil {
				return nil // interrupted while waiting for the server
			}
			if err != nil {
				return causeOf(ctx, err)
			}
			if once {
				var res replica.Result
				err := replica.Retry(ctx, giveUp, func() error {
					n, err := r.Sync(ctx)
					res.Pushed += n.Pushed
					res.Pulled += n.Pulled
					res.Conflicts += n.Conflicts
					res.Missed += n.Missed
					res.Resent += n.Resent
					res.StreamReset = res.StreamReset || n.StreamReset
					return err
				})
				if err != nil {
					return causeOf(ctx, err)
				}
				warnMissed(cmd.ErrOrStderr(), res)
				return printJSON(cmd.OutOrStdout(), res)
			}
			err = r.Run(ctx, interval, syncReporter(cmd.OutOrStdout(), cmd.ErrOrStderr(), g.json, r.Device()))
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	nf.add(cmd)
	pf.add(cmd, "the group's changes and attachments")
	cmd.Flags().BoolVar(&once, "once", false, "sync once and return when caught up both ways")
	cmd.Flags().StringVar(&device, "device", "", "this store's device name ([A-Za-z0-9_-], at most 64; default: the recorded one, else random)")
	cmd.Flags().StringVar(&group, "group", "default", "the group of stores that sync with each other")
	cmd.Flags().DurationVar(&interval, "interval", 30*time.Second, "without --once: sync at least this often")
	cmd.Flags().IntVar(&replicas, "replicas", 1, "JetStream replicas of the group's stream and blob store when sync creates them (3 on a 3-node cluster)")
	cmd.AddCommand(newSyncConflicts(g))
	return cmd
}

// warnMissed says on stderr that messages were gone before they were
// read, and that the stream was found new.
func warnMissed(w io.Writer, res replica.Result) {
	if res.StreamReset {
		fmt.Fprintf(w, "warning: the group's stream is not the one this store last synced with (the server lost its store, or the stream was deleted and created again): this store read it from its start and published again the %d document(s) it holds\n", res.Resent)
	}
	if res.Missed > 0 {
		fmt.Fprintf(w, "warning: %d message(s) of other devices were gone from the stream (purged, or past its limits) before this store read them: their changes are missing here\n", res.Missed)
	}
}

// syncReporter is what a continuous sync prints: one line per sync that
// moved anything (compact JSON with --json), nothing for one that did not.
func syncReporter(out, errw io.Writer, asJSON bool, device string) func(replica.Result) {
	return func(res replica.Result) {
		if res == (replica.Result{}) {
			return
		}
		warnMissed(errw, res)
		// A closed stdout ends nothing that matters.
		if asJSON {
			b, _ := json.Marshal(res)
			_, _ = fmt.Fprintf(out, "%s\n", b)
			return
		}
		_, _ = fmt.Fprintf(out, "%s: pushed %d, pulled %d, conflicts %d\n", device, res.Pushed, res.Pulled, res.Conflicts)
	}
}

func newSyncConflicts(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "conflicts",
		Example: `  kvtool sync conflicts
  kvtool --json sync conflicts`,
		Short: "List the values that lost a concurrent edit during sync",
		Args:  argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			db, err := g.openExisting()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			cs, err := replica.Conflicts(cmd.Context(), db)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), cs)
			}
			for _, c := range cs {
				what := "kept " + jsonText(c.Kept)
				if c.Deleted {
					what = "deleted"
				}
				lost := jsonText(c.Lost)
				if c.LostGone {
					lost = "(field removed)"
				}
				fmt.Fprintln(cmd.OutOrStdout(), terminalSafe(fmt.Sprintf("%s/%s %s: %s, lost %s (from %s)", c.Collection, c.ID, c.Field, what, lost, c.LostClock.D)))
			}
			return nil
		},
	}
}

func newBackupPush(g *globals) *cobra.Command {
	var nf natsFlags
	var pf passphraseFlag
	cmd := &cobra.Command{
		Use:     "push NAME --nats URL",
		Example: `  kvtool backup push 20261205T085344.697410197Z --nats nats://127.0.0.1:4222`,
		Short:   "Copy a verified backup to a NATS JetStream object store",
		Long: `push verifies backup NAME here, uploads its data file and manifest to the
JetStream object store ` + replica.BackupBucket + `, and checks that the stored
SHA-256 is the one computed while uploading. It prints the manifest. A
backup that fails verification here is not pushed (exit 3).
Attachment contents are not pushed with it.

With --passphrase-file F (or $` + passphraseEnv + `), the data file is encrypted end to end
(Argon2id, XChaCha20-Poly1305): the server sees only ciphertext; the
manifest stays readable. backup pull needs the same passphrase.`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			bo, err := pf.backupOptions()
			if err != nil {
				return err
			}
			nc, err := nf.connect()
			if err != nil {
				return err
			}
			defer nc.Close()
			db, err := g.openExisting()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			m, err := replica.PushBackup(cmd.Context(), db, nc, args[0], bo)
			if errors.Is(err, kv.ErrBackupInvalid) || errors.Is(err, replica.ErrBlobMismatch) {
				return integrityError{err.Error()}
			}
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), m)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pushed backup %s: %s, sha256 %s, verified at both ends\n", m.Name, humanBytes(m.Size), m.SHA256)
			return nil
		},
	}
	nf.add(cmd)
	pf.add(cmd, "the backup")
	return cmd
}

func newBackupPull(g *globals) *cobra.Command {
	var nf natsFlags
	var pf passphraseFlag
	cmd := &cobra.Command{
		Use:     "pull NAME --nats URL",
		Example: `  kvtool backup pull 20261205T085344.697410197Z --nats nats://127.0.0.1:4222`,
		Short:   "Fetch a backup from a NATS JetStream object store and verify it",
		Long: `pull downloads backup NAME from the JetStream object store ` + replica.BackupBucket + `
into <store>/backups, checks its SHA-256 against its manifest and verifies
it as backup verify does; a backup that fails is removed again (exit 3).
A copy of NAME already here is replaced only when it fails verification.
Restore it with kvtool backup restore NAME. An encrypted backup needs
its passphrase (--passphrase-file F or $` + passphraseEnv + `); a wrong one is exit 3.`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			bo, err := pf.backupOptions()
			if err != nil {
				return err
			}
			nc, err := nf.connect()
			if err != nil {
				return err
			}
			defer nc.Close()
			db, err := g.openRW()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			m, err := replica.PullBackup(cmd.Context(), db, nc, args[0], bo)
			if errors.Is(err, kv.ErrBackupInvalid) || errors.Is(err, replica.ErrBlobMismatch) || errors.Is(err, replica.ErrBlobIncomplete) || errors.Is(err, replica.ErrDecrypt) {
				return integrityError{err.Error()}
			}
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), m)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pulled backup %s: %s, verified; restore it with kvtool backup restore %s\n", m.Name, humanBytes(m.Size), m.Name)
			return nil
		},
	}
	nf.add(cmd)
	pf.add(cmd, "the backup")
	return cmd
}

// The passphrase of end-to-end encryption (sync, backup push and pull)
// comes from --passphrase-file F, else from $CAIRN_PASSPHRASE (for backups
// also from $CAIRN_BACKUP_PASSPHRASE, its older name); never from a flag's
// value, which would show in ps.
const (
	passphraseEnv       = "CAIRN_PASSPHRASE"
	backupPassphraseEnv = "CAIRN_BACKUP_PASSPHRASE"
)

// passphraseFlag is --passphrase-file.
type passphraseFlag struct{ file string }

func (p *passphraseFlag) add(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&p.file, "passphrase-file", "", "read the passphrase that encrypts "+what+" end to end from this file (its first line); default $"+passphraseEnv)
}

// get returns the passphrase ("" for none).
func (p *passphraseFlag) get(backup bool) (string, error) {
	if p.file == "" {
		envs := []string{passphraseEnv}
		if backup {
			envs = append(envs, backupPassphraseEnv)
		}
		for _, env := range envs {
			// Set but empty is a mistake (export VAR="$(cat missing)"),
			// never "no passphrase": that would sync in plaintext.
			if pass, ok := os.LookupEnv(env); ok {
				if strings.TrimRight(pass, "\r\n") == "" {
					return "", fmt.Errorf("$%s is set but empty (a passphrase is needed; unset it to sync without one)", env)
				}
				return pass, nil
			}
		}
		return "", nil
	}
	b, err := os.ReadFile(p.file)
	if err != nil {
		return "", fmt.Errorf("--passphrase-file: %w", err)
	}
	pass, _, _ := strings.Cut(string(b), "\n")
	pass = strings.TrimSuffix(pass, "\r")
	if pass == "" {
		return "", fmt.Errorf("--passphrase-file %s: the first line is empty (a passphrase is needed)", p.file)
	}
	return pass, nil
}

func (p *passphraseFlag) backupOptions() (*replica.BackupOptions, error) {
	pass, err := p.get(true)
	return &replica.BackupOptions{Passphrase: pass}, err
}

// jsonText is v as compact JSON, for one-line listings.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// listRemoteBackups is backup list --nats: the backups pushed to the
// object store.
func listRemoteBackups(cmd *cobra.Command, g *globals, nf *natsFlags) error {
	nc, err := nf.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	ms, err := replica.ListBackups(cmd.Context(), nc)
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(cmd.OutOrStdout(), ms)
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tSIZE\tDOCS\tSHA256")
	for _, m := range ms {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", m.Name, humanBytes(m.Size), total(m.Counts), m.SHA256)
	}
	return w.Flush()
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/webui"
	"github.com/spf13/cobra"
)

// uiLockWait is how long a page waits for the store's lock unless
// --timeout says otherwise: beside an application that holds the store,
// the page says so quickly rather than hang.
const uiLockWait = time.Second

func newUICommand(g *globals) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:         "ui [--addr HOST:PORT]",
		Annotations: map[string]string{servesAnnotation: "yes"},
		Short:       "Serve a local web inspector: browse, query, search, check, back up and restore",
		Long: `ui serves a web inspector of the store from kvtool itself (no network
needed) and prints its URL, with a random access token, as the first line
of stdout (with --json: {"url":..,"addr":..} on that line). Open it in a
browser. It serves until interrupted (Ctrl-C).

Pages: the collections with their counts and sizes; each collection's
summaries, paged and sortable, without decoding whole documents; a
document (a session's large parts on demand, attachments previewed when
they are images; edits as JSON merge patches that fail if the document
changed meanwhile); a query builder showing the plan; full-text search
with highlights; backups (age, size, verification; create, verify, and
restore after a confirmation, naming the backup of the replaced state);
check, with its problems and what to do about them; stats with a chart of
the sizes per collection. Pages update when the store changes (the page
polls the data file's size and time, never the store itself).

Beside a running application: Cairn's store lock lets one process write
or several read. The inspector opens the store read-only for each burst of
requests and closes it once no request has used it for 2 s (or, when
requests never pause that long, between two of them once it has held it
for 2 s), so an application can open the store at any moment, waiting at
most about that long. While an application holds the store for
writing, the pages say which process holds it and load as soon as it is
free; each request waits --timeout for the lock (1s unless given). A
check holds the store for as long as it reads. A search while the search
index is being rebuilt (after a restore or a reindex) waits 1.5 s for it,
then answers 503 ("indexing") and the page asks again: the rebuild goes
on in slices between which the store is free. Backup create, restore and
edits open the store for writing, for that operation only.

Access: the API needs the token: the page keeps it from the URL's first
visit (in its own storage, never in a cookie: browsers send a cookie of
127.0.0.1 to every local port, so any other local web server would get
it) and sends it as "Authorization: Bearer TOKEN"; a script may send that
or ?token=TOKEN. The page itself needs the URL's token on the first visit,
then a cookie (HttpOnly, SameSite=Strict) that opens only the page and its
assets, which hold no data. Requests whose Host header is not
this address, localhost or a loopback IP address (any IP address when it
listens on every address) are refused (DNS rebinding), and a
change must come from the inspector's own page (Origin). --addr defaults to
127.0.0.1:8765, loopback only; port 0 picks a free port. Any other address
makes the store readable, and restorable, by whoever gets the URL, over
unencrypted HTTP: kvtool warns on stderr.`,
		Example: `  kvtool ui
  kvtool --db ~/app-data ui --addr 127.0.0.1:0`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			wait := uiLockWait
			if f := cmd.Flag("timeout"); f != nil && f.Changed {
				wait = g.timeout
			}
			stderr := cmd.ErrOrStderr()
			srv, err := webui.Start(addr, webui.Config{
				Dir:         g.db,
				Collections: uiCollections(),
				Options: func(readOnly bool) *kv.Options {
					o := g.options(&kv.Options{ReadOnly: readOnly})
					o.Timeout = wait
					o.EagerSearch = false // opened per burst of requests: a search brings the index up to date when it runs
					o.Progress = nil      // no bars from a server
					return o
				},
				Advice:   func(ps []kv.Problem) []string { return adviceLines(ps) },
				ErrorLog: log.New(stderr, "kvtool ui: ", 0),
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if g.json {
				line, _ := json.Marshal(map[string]string{"url": srv.URL(), "addr": srv.Addr().String()}) // strings only: cannot fail
				fmt.Fprintf(out, "%s\n", line)
			} else {
				fmt.Fprintln(out, srv.URL())
			}
			if !srv.Loopback() {
				fmt.Fprintf(stderr, "kvtool ui: warning: listening on %s, which is not loopback only: anyone who can reach it and has the URL can read this store and restore its backups, over unencrypted HTTP\n", srv.Addr())
			}
			fmt.Fprintf(stderr, "kvtool ui: serving the store in %s; press Ctrl-C to stop\n", g.db)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			failed := make(chan error, 1)
			go func() { failed <- srv.Wait() }()
			select {
			case err = <-failed:
			case <-ctx.Done():
			}
			// A second interrupt is the global handler's again: it ends
			// the process at once, whatever a request in flight waits for.
			stop()
			// Let a restore or a backup in flight finish.
			sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if cerr := srv.Close(sctx); err == nil {
				err = cerr
			}
			return err
		},
	}
	cmd.Flags().StringVar(&addr, "addr", webui.DefaultAddr, "listen on HOST:PORT (port 0: a free port); anything but loopback is reachable from other machines")
	return cmd
}

// uiCollections lists the collections for the inspector, in kvtool's order.
func uiCollections() []webui.Collection {
	var out []webui.Collection
	for _, name := range kv.BuiltinCollections() {
		c, _ := kv.LookupCollection(name)
		out = append(out, webui.Collection{Name: c.Name, Singleton: c.Kind == kv.KindSingleton})
	}
	return out
}

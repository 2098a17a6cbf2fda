// Command kvtool inspects and operates a Cairn store. See docs/KVTOOL.md for the
// contract and `kvtool --help` for the commands.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Libraries below (Bleve) log recoverable events with the standard
	// logger; kvtool reports what matters itself.
	log.SetOutput(io.Discard)
	privateFiles()
	// Ctrl-C (or SIGTERM) asks the command to stop where it can stop
	// cleanly: a migration or an import then leaves the store as it was
	// and removes what it made. A second one ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			stop()
			fmt.Fprintln(os.Stderr, "kvtool: stopping where it can stop cleanly (interrupt again to end at once)")
		case <-done:
		}
	}()
	code := runContext(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	close(done)
	stop()
	os.Exit(code)
}

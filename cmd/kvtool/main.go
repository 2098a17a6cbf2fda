// Command kvtool inspects and operates a Cairn store. See docs/KVTOOL.md for the
// contract and `kvtool --help` for the commands.
package main

import (
	"io"
	"log"
	"os"
)

func main() {
	// Libraries below (Bleve) log recoverable events with the standard
	// logger; kvtool reports what matters itself.
	log.SetOutput(io.Discard)
	privateFiles()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

package main

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every kvtool command has --help text with an example (docs/KVTOOL.md),
// and the example calls the command it documents.
func TestHelp_everyCommandHasExample(t *testing.T) {
	root, _ := newRoot(strings.NewReader(""), io.Discard, io.Discard)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() {
				continue
			}
			path := sub.CommandPath()
			if strings.TrimSpace(sub.Short) == "" {
				t.Errorf("%s: no short help", path)
			}
			if !strings.Contains(sub.Example, path) {
				t.Errorf("%s: --help has no example calling %q", path, path)
			}
			r := kvtool(t, "", append(strings.Fields(path)[1:], "--help")...)
			if r.code != exitOK || !strings.Contains(r.stdout, "Examples:") {
				t.Errorf("%s --help: exit %d, no Examples section:\n%s", path, r.code, r.stdout)
			}
			walk(sub)
		}
	}
	walk(root)
}

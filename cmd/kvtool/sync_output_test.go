package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnkv/cairn/replica"
)

// A continuous sync prints one line per sync that moved anything (one
// compact JSON document a line with --json), and nothing for one that
// moved nothing, the first included.
func TestSync_continuousOutput(t *testing.T) {
	for _, asJSON := range []bool{true, false} {
		var out, errb bytes.Buffer
		report := syncReporter(&out, &errb, asJSON, "laptop")
		report(replica.Result{})
		report(replica.Result{Pushed: 2, Pulled: 1})
		report(replica.Result{})
		report(replica.Result{Pulled: 3, Missed: 1})
		want := "laptop: pushed 2, pulled 1, conflicts 0\nlaptop: pushed 0, pulled 3, conflicts 0\n"
		if asJSON {
			want = `{"pushed":2,"pulled":1,"conflicts":0}` + "\n" + `{"pushed":0,"pulled":3,"conflicts":0,"missed":1}` + "\n"
		}
		if out.String() != want {
			t.Errorf("json %v: printed %q, want %q", asJSON, out.String(), want)
		}
		if !bytes.Contains(errb.Bytes(), []byte("1 message(s)")) {
			t.Errorf("json %v: no warning for the missed message: %q", asJSON, errb.String())
		}
	}
}

// An invalid --device or --group is refused before the store is opened:
// no store directory is created.
func TestSync_invalidNameCreatesNothing(t *testing.T) {
	url := natsServer(t, nil).ClientURL()
	for _, args := range [][]string{{"--device", "bad name"}, {"--group", "a.b"}} {
		dir := filepath.Join(t.TempDir(), "store")
		r := kvtool(t, "", append([]string{"--db", dir, "sync", "--once", "--nats", url}, args...)...)
		wantExit(t, r, exitError, args...)
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%q: the store directory was created (%v)", args, err)
		}
	}
}

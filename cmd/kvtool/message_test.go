package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

func TestMessage_dropsPackageChains(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("cairn: query sessions: %w", fmt.Errorf("secondary: bad query: unknown field")), "query sessions: bad query: unknown field"},
		{fmt.Errorf("get notes %q: %w", "n1", kv.ErrNotFound), `get notes "n1": not found`},
		{fmt.Errorf("restore: %w", fmt.Errorf("snapshot: backup failed verification (cairn: corrupt data)")), "restore: backup failed verification (corrupt data)"},
		{errors.New("open ./searchdir: no such file"), "open ./searchdir: no such file"},
		{errors.New("the word search: here"), "the word search: here"},
	} {
		if got := message(tc.err); got != tc.want {
			t.Errorf("message(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/buckets"
)

// flipAt flips one byte of the file at path, at the first occurrence of
// marker plus off.
func flipAt(t *testing.T, path, marker string, off int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(marker))
	if i < 0 || bytes.Contains(b[i+1:], []byte(marker)) {
		t.Fatalf("marker %q not found exactly once", marker)
	}
	b[i+off] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func editManifest(t *testing.T, dir, name string, edit func(m map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, name+".json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string, size func(int64) int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, size(fi.Size())); err != nil {
		t.Fatal(err)
	}
}

// Damage is reported as problems that name the file and what is wrong.
func TestVerify_corruption(t *testing.T) {
	db := openStore(t, testCounts, 200)
	tests := []struct {
		name   string
		damage func(t *testing.T, dir, name string)
		want   []string // problem kinds that must all be reported
		detail string   // a string some problem's Detail or ID must contain
		listOK bool     // List's cheap checks do not see it
	}{
		{"value byte flipped", func(t *testing.T, dir, name string) {
			flipAt(t, filepath.Join(dir, name+".db"), "VALUE notes n000017 ", 22)
		}, []string{"sha256", "checksum"}, "n000017", true},
		{"truncated to half", func(t *testing.T, dir, name string) {
			truncate(t, filepath.Join(dir, name+".db"), func(n int64) int64 { return n / 2 })
		}, []string{"size", "sha256", "meta"}, "truncated", false},
		{"truncated by one page", func(t *testing.T, dir, name string) {
			truncate(t, filepath.Join(dir, name+".db"), func(n int64) int64 { return n - 4096 })
		}, []string{"size", "sha256", "meta"}, ".db", false},
		{"truncated to 100 bytes", func(t *testing.T, dir, name string) {
			truncate(t, filepath.Join(dir, name+".db"), func(int64) int64 { return 100 })
		}, []string{"size", "sha256", "meta"}, "truncated", false},
		{"truncated to 10 bytes", func(t *testing.T, dir, name string) {
			truncate(t, filepath.Join(dir, name+".db"), func(int64) int64 { return 10 })
		}, []string{"size", "sha256", "meta"}, "too small", false},
		{"emptied", func(t *testing.T, dir, name string) {
			truncate(t, filepath.Join(dir, name+".db"), func(int64) int64 { return 0 })
		}, []string{"size", "sha256", "meta"}, "too small", false},
		{"meta pages zeroed", func(t *testing.T, dir, name string) {
			p := filepath.Join(dir, name+".db")
			b, _ := os.ReadFile(p)
			clear(b[:2*4096])
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"sha256", "meta"}, "no valid meta page", true},
		{"manifest hash replaced", func(t *testing.T, dir, name string) {
			editManifest(t, dir, name, func(m map[string]any) { m["sha256"] = strings.Repeat("ab", 32) })
		}, []string{"sha256"}, "manifest says abab", false}, // the manifest's own checksum shows in List too
		{"manifest counts edited", func(t *testing.T, dir, name string) {
			editManifest(t, dir, name, func(m map[string]any) { m["counts"].(map[string]any)["notes"] = 41 })
		}, []string{"count"}, "expected 41", false},
		{"manifest garbage", func(t *testing.T, dir, name string) {
			if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte("{\"name\":"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"manifest"}, ".json: manifest does not parse", false},
		{"manifest names another backup", func(t *testing.T, dir, name string) {
			editManifest(t, dir, name, func(m map[string]any) { m["name"] = "20200101T000000.000000000Z" })
		}, []string{"manifest"}, "names backup", false},
		{"data file missing", func(t *testing.T, dir, name string) {
			if err := os.Remove(filepath.Join(dir, name+".db")); err != nil {
				t.Fatal(err)
			}
		}, []string{"missing"}, "data file is missing", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			m := create(t, db, dir, testOptions(testNow))
			tt.damage(t, dir, m.Name)
			got, problems, err := Verify(t.Context(), dir, m.Name, testVerifier)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Verified || len(problems) == 0 {
				t.Fatalf("damage not found: %+v", got)
			}
			k := kinds(problems)
			for _, w := range tt.want {
				if !k[w] {
					t.Errorf("no %q problem in %v", w, problems)
				}
			}
			found := false
			for _, p := range problems {
				if !strings.HasPrefix(p.Detail, m.Name+".") {
					t.Errorf("problem does not name its file: %v", p)
				}
				if strings.Contains(p.Detail, tt.detail) || strings.Contains(p.ID, tt.detail) {
					found = true
				}
			}
			if !found {
				t.Errorf("no problem mentions %q: %v", tt.detail, problems)
			}
			list, err := List(dir)
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %v %v", list, err)
			}
			if list[0].Verified != tt.listOK || (list[0].Problem == "") != tt.listOK {
				t.Errorf("List entry verified=%v problem=%q", list[0].Verified, list[0].Problem)
			}
		})
	}
}

// The default verifier (buckets.VerifyTx) names a damaged record.
func TestVerify_bucketsVerifyTx(t *testing.T) {
	db := openCairnStore(t, 30)
	dir := t.TempDir()
	opts := testOptions(testNow)
	opts.Verify = nil
	m := create(t, db, dir, opts)
	flipAt(t, filepath.Join(dir, m.Name+".db"), "MARKER n000012", 10)
	_, problems, err := Verify(t.Context(), dir, m.Name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !kinds(problems)["sha256"] {
		t.Errorf("no sha256 problem: %v", problems)
	}
	named := false
	for _, p := range problems {
		if p.Collection == "notes" && p.ID == "n000012" {
			named = true
		}
	}
	if !named {
		t.Errorf("no problem names notes n000012: %v", problems)
	}
}

func TestVerify_errors(t *testing.T) {
	db := openStore(t, testCounts, 50)
	dir := t.TempDir()
	m := create(t, db, dir, testOptions(testNow))
	debris := Name(testNow.Add(1))
	if err := os.WriteFile(filepath.Join(dir, debris+".db"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		arg  string
		want error
	}{
		{"unknown", t.Context(), Name(testNow.Add(-1)), ErrNotFound},
		{"debris is not a backup", t.Context(), debris, ErrNotFound},
		{"traversal", t.Context(), "../" + m.Name, ErrInvalidName},
		{"empty", t.Context(), "", ErrInvalidName},
		{"canceled", canceled, m.Name, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems, err := Verify(tt.ctx, dir, tt.arg, testVerifier)
			if !errors.Is(err, tt.want) || len(problems) > 0 {
				t.Errorf("err %v problems %v, want %v", err, problems, tt.want)
			}
		})
	}
	if _, err := ReadManifest(dir, debris); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadManifest(debris) = %v", err)
	}
}

func TestCheckFormat(t *testing.T) {
	tests := []struct {
		have, max int
		want      error
	}{
		{1, 1, nil},
		{1, 2, nil},
		{2, 1, ErrNewerFormat},
	}
	for _, tt := range tests {
		err := CheckFormat(Manifest{Name: "b", FormatVersion: tt.have}, tt.max)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("CheckFormat(%d, %d) = %v, want %v", tt.have, tt.max, err, tt.want)
		}
		if err != nil && !strings.Contains(err.Error(), "format version 2") {
			t.Errorf("message does not say the version: %v", err)
		}
	}
}

func TestVerifyError_message(t *testing.T) {
	var ps []buckets.Problem
	for i := 0; i < 7; i++ {
		ps = append(ps, buckets.Problem{Kind: "checksum", Collection: "notes", ID: "x", Detail: "bad"})
	}
	err := error(&VerifyError{Name: "n", Stage: "copy", Problems: ps})
	if !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), "7 problem(s)") || !strings.Contains(err.Error(), "and 2 more") {
		t.Errorf("%v", err)
	}
	// Only a source that fails is damage of the store itself (kvtool
	// exits 3 when a command stops because of it); a backup verified
	// before a restore has no stage, and no empty parentheses.
	for _, tt := range []struct {
		stage   string
		corrupt bool
		text    string
	}{
		{"source", true, "failed verification (source): 7"},
		{"copy", false, "failed verification (copy): 7"},
		{"counts", false, "failed verification (counts): 7"},
		{"", false, "failed verification: 7"},
	} {
		err := error(&VerifyError{Name: "n", Stage: tt.stage, Problems: ps})
		if !errors.Is(err, ErrVerify) || errors.Is(err, buckets.ErrCorrupt) != tt.corrupt || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("stage %q: %v (ErrCorrupt %v, want %v)", tt.stage, err, errors.Is(err, buckets.ErrCorrupt), tt.corrupt)
		}
	}
}

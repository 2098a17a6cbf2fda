package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestNewestVerified compares NewestVerified with the first verified
// entry of List: with manifests large enough that only their head and
// tail are read, with the newest one damaged in three ways in turn (its
// head, its data file's size, a failed verification), and with none.
func TestNewestVerified(t *testing.T) {
	db := openStore(t, testCounts, 100)
	dir := t.TempDir()
	if _, ok, err := NewestVerified(dir + "/none"); ok || err != nil {
		t.Fatalf("no directory: ok %v err %v", ok, err)
	}
	var blobs []string
	for i := range 2000 { // a 135 KB manifest
		s := sha256.Sum256(fmt.Append(nil, i))
		blobs = append(blobs, hex.EncodeToString(s[:]))
	}
	var ms []Manifest
	for i := range 3 {
		o := testOptions(testNow.Add(time.Duration(i) * time.Hour))
		o.Blobs, o.Seq, o.LastChange = blobs, uint64(10+i), testNow.Add(time.Duration(i)*time.Minute)
		ms = append(ms, create(t, db, dir, o))
	}
	mp, _ := manifestPath(dir, ms[2].Name)
	if fi, _ := os.Stat(mp); fi.Size() < 4*(headBytes+tailBytes) {
		t.Fatalf("manifest of %d bytes: too small to exercise the partial read", fi.Size())
	}
	check := func(what string, want Manifest) {
		t.Helper()
		got, ok, err := NewestVerified(dir)
		if err != nil || !ok {
			t.Fatalf("%s: ok %v err %v", what, ok, err)
		}
		list, err := List(dir)
		if err != nil {
			t.Fatal(err)
		}
		var first Manifest
		for _, m := range list {
			if m.Verified && m.Problem == "" {
				first = m
				break
			}
		}
		if first.Name != want.Name {
			t.Fatalf("%s: List's first verified backup is %s, want %s", what, first.Name, want.Name)
		}
		first.Blobs = nil
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", first) {
			t.Errorf("%s: NewestVerified\n%+v\nList\n%+v", what, got, first)
		}
	}
	check("intact", ms[2])

	data, err := os.ReadFile(mp)
	if err != nil {
		t.Fatal(err)
	}
	// A damaged head: the name no longer matches.
	bad := strings.Replace(string(data), `"name": "`, `"name": "x`, 1)
	if err := os.WriteFile(mp, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	check("damaged head", ms[1])
	// Marked as failed in its tail.
	bad = strings.Replace(string(data), `"verified": true`, `"verified": false`, 1)
	if err := os.WriteFile(mp, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	check("failed verification", ms[1])
	if err := os.WriteFile(mp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	check("restored", ms[2])
	// A data file of the wrong size.
	dp, _ := Path(dir, ms[2].Name)
	if err := os.Truncate(dp, ms[2].Size-4096); err != nil {
		t.Fatal(err)
	}
	check("truncated data file", ms[1])

	for _, m := range ms {
		p, _ := manifestPath(dir, m.Name)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, err := NewestVerified(dir); ok || err != nil {
		t.Errorf("no manifests: ok %v err %v", ok, err)
	}
}

func TestJoinHead(t *testing.T) {
	// A collection named "blobs" in counts is indented deeper: not the key.
	head := []byte("{\n  \"counts\": {\n    \"blobs\": 3\n  },\n  \"blobs\": [\n    \"aa")
	tail := []byte("bb\",\n    \"cc\"\n  ],\n  \"verified\": true,\n  \"checksum\": \"x\"\n}\n")
	got, ok := joinHead(head, tail)
	want := "{\n  \"counts\": {\n    \"blobs\": 3\n  },\n  \"blobs\": [],\n  \"verified\": true,\n  \"checksum\": \"x\"\n}\n"
	if !ok || string(got) != want {
		t.Errorf("joinHead ok %v\n%s", ok, got)
	}
	if _, ok := joinHead([]byte("{\n  \"name\": \"x\""), tail); ok {
		t.Error("joined a head without the blob list")
	}
	if _, ok := joinHead(head, []byte("\"cc\"\n  ]\n}")); ok {
		t.Error("joined a tail without the verified key")
	}
}

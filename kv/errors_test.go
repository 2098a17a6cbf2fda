package kv_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// TestList_wrappedStop: a callback's error that wraps ErrStop ends the
// listing without error, as ErrStop itself does.
func TestList_wrappedStop(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	for i := range 5 {
		if _, err := db.Put(ctx, "notes", kv.Document{"id": fmt.Sprintf("n%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	err := db.List(ctx, "notes", 0, 0, func(kv.Document) error {
		if n++; n == 2 {
			return fmt.Errorf("enough: %w", kv.ErrStop)
		}
		return nil
	})
	if err != nil || n != 2 {
		t.Fatalf("List with a wrapped ErrStop: err %v after %d summaries, want nil after 2", err, n)
	}
	n = 0
	err = db.View(ctx, func(tx *kv.Tx) error {
		return tx.Each("notes", func(string, any) error {
			n++
			return fmt.Errorf("enough: %w", kv.ErrStop)
		})
	})
	if err != nil || n != 1 {
		t.Fatalf("Each with a wrapped ErrStop: err %v after %d documents, want nil after 1", err, n)
	}
}

// TestView_callerPanic: a panic in View's function is reported as that
// function's panic, as Update reports one, never as damage to the store.
func TestView_callerPanic(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	for name, run := range map[string]func(func(*kv.Tx) error) error{
		"View":   func(fn func(*kv.Tx) error) error { return db.View(ctx, fn) },
		"Update": func(fn func(*kv.Tx) error) error { return db.Update(ctx, fn) },
	} {
		err := run(func(*kv.Tx) error { panic("boom") })
		if err == nil || errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), "panicked: boom") {
			t.Errorf("%s with a panicking function: %v, want a panic that is not ErrCorrupt", name, err)
		}
		var m map[string]int
		err = run(func(*kv.Tx) error { m["x"] = 1; return nil }) // nil map: a runtime panic in the caller's code
		if err == nil || errors.Is(err, kv.ErrCorrupt) {
			t.Errorf("%s with a runtime error in the function: %v, want a panic that is not ErrCorrupt", name, err)
		}
	}
}

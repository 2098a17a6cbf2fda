package gen

import (
	"testing"
	"time"
)

func TestTryPerColl(t *testing.T) {
	g := New(Config{})
	for _, c := range Collections {
		t0 := time.Now()
		_ = g.Each(c, func(map[string]any) error { return nil })
		t.Logf("%s %d: %v", c, g.Count(c), time.Since(t0))
	}
}

package buckets

import (
	"fmt"
	"testing"
)

func TestLayoutOrder(t *testing.T) {
	names := [][]byte{
		[]byte("zz-unknown"), PartsBucket("sessions"), LogBucket, RefsBucket,
		IndexBucket("notes", "date"), PrimaryBucket("sessions"), MetaBucket("sessions"),
		MetaBucket("notes"), SysBucket, PrimaryBucket("notes"),
	}
	LayoutOrder(names)
	want := "[sys m/notes m/sessions c/notes c/sessions x/notes/date refs log p/sessions zz-unknown]"
	got := fmt.Sprintf("%s", names)
	if got != want {
		t.Errorf("order %s\nwant  %s", got, want)
	}
	for _, tc := range []struct {
		name []byte
		fill float64
	}{{LogBucket, 1.0}, {PartsBucket("sessions"), 1.0}, {MetaBucket("notes"), 0.9}, {[]byte("m/Bad"), 0.5}} {
		if _, f := Region(tc.name); f != tc.fill {
			t.Errorf("Region(%s) fill %v, want %v", tc.name, f, tc.fill)
		}
	}
}

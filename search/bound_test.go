package search

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestBounded: runs of more than maxWord bytes without a space are left
// out, the rest is cut to the bound at a character boundary.
func TestBounded(t *testing.T) {
	long := strings.Repeat("QUJD", 100) // 400 bytes of base64
	tests := []struct{ in, want string }{
		{"plain words stay", "plain words stay"},
		{"<img src=\"data:image/png;base64," + long + "\"> after", "<img  after"},
		{"before " + long + "\n\tafter", "before \n\tafter"},
		{long, ""},
		{strings.Repeat("é", maxWord/2) + " x", strings.Repeat("é", maxWord/2) + " x"},
	}
	for _, tc := range tests {
		if got := bounded(tc.in, maxIndexedText); got != tc.want {
			t.Errorf("bounded(%.40q...) = %.60q, want %.60q", tc.in, got, tc.want)
		}
	}
	s := strings.Repeat("ab€ ", 1000)
	for n := 0; n < 40; n++ {
		got := bounded(s, n)
		if len(got) > n || !utf8.ValidString(got) || !strings.HasPrefix(s, got) || len(got) < n-2 {
			t.Errorf("bounded to %d: %q", n, got)
		}
	}
}

// TestIndex_largeDocuments: a note of 4 MiB of distinct words and one
// with a 12 MB data: URI in its HTML took gigabytes and minutes to index,
// or ran out of memory on the batch after them. Their text is indexed up
// to maxIndexedText, without the URI; a batch of small notes after them
// indexes as any other, and the heap stays far below what they took.
// (Its words repeat, to keep the test fast: 1 MiB of distinct words takes
// seconds to index.)
func TestIndex_largeDocuments(t *testing.T) {
	ix := openTest(t)
	var words strings.Builder
	words.WriteString("firstword ")
	for i := 0; words.Len() < 4<<20; i++ {
		fmt.Fprintf(&words, "w%dq ", i%5000) // few distinct words: a fast test
		if i == 400000 {
			words.WriteString("pastthebound ")
		}
	}
	uri := "<p>meeting</p><img src=\"data:image/jpeg;base64," + strings.Repeat("QUJDRA", 2<<20) + "\">"
	apply(t, ix, 1,
		upsert(t, "notes", "words", 1, fmt.Sprintf(`{"content":%q}`, words.String())),
		upsert(t, "notes", "image", 1, fmt.Sprintf(`{"content":%q}`, uri)),
	)
	var small []Change
	for i := range 1000 {
		small = append(small, upsert(t, "notes", fmt.Sprintf("s%d", i), 1, `{"content":"small note about otters"}`))
	}
	apply(t, ix, 2, small...)
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapAlloc > 1<<30 {
		t.Errorf("heap %d MiB after indexing", m.HeapAlloc>>20)
	}
	if got := ids(mustSearch(t, ix, "firstword", SearchOptions{})); len(got) != 1 || got[0] != "notes/words" {
		t.Errorf("a word in the first MiB: %v", got)
	}
	if got := ids(mustSearch(t, ix, "pastthebound", SearchOptions{})); len(got) != 0 {
		t.Errorf("a word past the bound: %v", got)
	}
	if got := ids(mustSearch(t, ix, "meeting", SearchOptions{})); len(got) != 1 || got[0] != "notes/image" {
		t.Errorf("the words around the data: URI: %v", got)
	}
	if r := mustSearch(t, ix, "otters", SearchOptions{Limit: 5}); r.Total != 1000 {
		t.Errorf("small notes after the large ones: %d", r.Total)
	}
}

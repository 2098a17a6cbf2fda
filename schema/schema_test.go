package schema

import (
	"errors"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	for _, n := range []string{"sessions", "aiSettings", "widgets", "w", "my_things-2", "aB9", strings.Repeat("a", 64)} {
		if err := ValidName(n); err != nil {
			t.Errorf("%q: %v", n, err)
		}
	}
	for _, n := range []string{"", "no/such", "Bad Name", "_x", "9a", "Widgets", "a.b", "é", strings.Repeat("a", 65)} {
		if err := ValidName(n); !errors.Is(err, ErrUnknownCollection) {
			t.Errorf("%q: %v, want ErrUnknownCollection", n, err)
		}
	}
}

func TestCheckID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		ok   bool
	}{
		{"empty", "", false},
		{"one byte", "a", true},
		{"256 bytes", strings.Repeat("a", 256), true},
		{"257 bytes", strings.Repeat("a", 257), false},
		{"128 two-byte runes", strings.Repeat("é", 128), true},
		{"257 bytes of runes", strings.Repeat("é", 128) + "a", false},
		{"invalid UTF-8", "ab\xffcd", false},
		{"truncated rune", "\xc3", false},
		{"NUL", "a\x00b", false},
		{"only NUL", "\x00", false},
		{"spaces and slashes", "a b/c..\\d", true},
		{"control characters", "\x01\t\n", true},
		{"emoji", "🪨", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckID(tt.id)
			if tt.ok && err != nil {
				t.Errorf("CheckID: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidID) {
				t.Errorf("CheckID = %v, want ErrInvalidID", err)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	var s *Schema // the zero schema knows the built-ins and user names
	c, err := s.Lookup("sessions")
	if err != nil || !c.BuiltIn || c.Kind != Entity || len(c.ArrayParts) != 3 {
		t.Fatalf("sessions: %+v %v", c, err)
	}
	if b := Builtins(); &b[0].ArrayParts[0] == &c.ArrayParts[0] {
		t.Fatal("Builtins shares the declarations")
	}
	u, err := s.Lookup("widgets")
	if err != nil || u.BuiltIn || u.Kind != Entity || len(u.Indexes) != 0 || !u.Searched() {
		t.Fatalf("widgets: %+v %v", u, err)
	}
	if _, err := s.Lookup("no/such"); !errors.Is(err, ErrUnknownCollection) {
		t.Fatal(err)
	}
	for _, n := range []string{"settings", "aiSettings", "preferences"} {
		c, _ := s.Lookup(n)
		if k, err := c.Key("ignored"); c.Kind != Singleton || k != n || err != nil {
			t.Fatalf("%s: kind %v key %q %v", n, c.Kind, k, err)
		}
	}
	if part, array := c.IsPart("screenshots"); !part || !array {
		t.Error("screenshots is not an array part")
	}
	if part, array := c.IsPart("summary"); !part || array {
		t.Error("summary is not a blob part")
	}
	if part, _ := c.IsPart("name"); part {
		t.Error("name is a part")
	}
	if _, err := s.Lookup("Sesions"); !errors.Is(err, ErrUnknownCollection) || !strings.Contains(err.Error(), "sessions") {
		t.Errorf("a bad name: %v, want ErrUnknownCollection naming the built-in collections", err)
	}
	if a, _ := s.Lookup("attachments"); a.BlobRef != "hash" {
		t.Fatal("attachments refer to blobs by hash")
	}
}

func TestWithIndex(t *testing.T) {
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := s.WithIndex("widgets", Index{Field: "made", Type: TypeTime})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Lookup("widgets"); len(c.Indexes) != 0 {
		t.Fatal("WithIndex changed the schema it was called on")
	}
	c, _ := s2.Lookup("widgets")
	if len(c.Indexes) != 1 || c.Indexes[0].Name != "made" || !c.IsTimestamp("made") || c.IndexFor("made") == nil {
		t.Fatalf("%+v", c)
	}
	if again, err := s2.WithIndex("widgets", Index{Field: "made", Type: TypeTime}); err != nil || again != s2 {
		t.Fatalf("the same declaration again: %v", err)
	}
	if _, err := s2.WithIndex("widgets", Index{Field: "made", Type: TypeNumber}); !errors.Is(err, ErrInvalidIndex) {
		t.Fatalf("a different index of the same name: %v", err)
	}
	for _, bad := range []struct {
		coll string
		ix   Index
	}{
		{"sessions", Index{Field: "x"}},
		{"widgets", Index{Field: ""}},
		{"widgets", Index{Field: "a..b"}},
		{"widgets", Index{Field: "a", Type: "date"}},
		{"widgets", Index{Field: "a", Name: "x/y"}},
		{"widgets", Index{Field: "a", Type: TypeNumber, Folded: true}},
		{"Bad", Index{Field: "a"}},
	} {
		if _, err := s.WithIndex(bad.coll, bad.ix); err == nil {
			t.Errorf("%s %+v accepted", bad.coll, bad.ix)
		}
	}
	persisted := s2.UserIndexes()
	s3, err := New(persisted)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := s3.Lookup("widgets"); len(c.Indexes) != 1 || !c.IsTimestamp("made") {
		t.Fatalf("rebuilt from its user indexes: %+v", c)
	}
	s4, err := s3.WithoutIndex("widgets", "made")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := s4.Lookup("widgets"); len(c.Indexes) != 0 || c.IsTimestamp("made") {
		t.Fatalf("after the drop: %+v", c)
	}
	if _, err := s4.WithoutIndex("widgets", "made"); !errors.Is(err, ErrInvalidIndex) {
		t.Fatal(err)
	}
	if _, err := s4.WithoutIndex("sessions", "status"); !errors.Is(err, ErrInvalidIndex) {
		t.Fatal(err)
	}
}

// Every declaration is consistent: indexes, summary and search fields name
// paths, derived fields say what they derive, parts are not summarised.
func TestBuiltins(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Builtins() {
		if seen[c.Name] || ValidName(c.Name) != nil {
			t.Fatalf("name %q", c.Name)
		}
		seen[c.Name] = true
		for _, ix := range c.Indexes {
			if err := checkIndex(ix); err != nil && ix.Field != LinksField {
				t.Errorf("%s: %v", c.Name, err)
			}
		}
		for _, d := range c.Derived {
			n := 0
			for _, set := range []bool{d.Count != "", len(d.Title) > 0, d.Copy != ""} {
				if set {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s: derived %s says %d things", c.Name, d.Name, n)
			}
			if d.Count != "" {
				if _, array := c.IsPart(d.Count); !array {
					t.Errorf("%s: %s counts %s, not an array part", c.Name, d.Name, d.Count)
				}
			}
		}
		for _, f := range c.Search {
			if (len(f.Paths) == 0) == (f.Derived == "") {
				t.Errorf("%s: search field %s needs paths or a derived field", c.Name, f.Name)
			}
			if f.Derived != "" && !hasDerived(c, f.Derived) {
				t.Errorf("%s: search field %s names no derived field", c.Name, f.Name)
			}
		}
	}
	if len(seen) != 11 {
		t.Fatalf("%d built-in collections", len(seen))
	}
}

func hasDerived(c *Collection, name string) bool {
	for _, d := range c.Derived {
		if d.Name == name {
			return true
		}
	}
	return false
}

// TestWithIndex_compound: a compound declaration gets its "+" name, field
// and paths, is found by name only (not as a query field), and bad ones are
// refused naming what is wrong.
func TestWithIndex_compound(t *testing.T) {
	s, err := (*Schema)(nil).WithIndex("widgets", Index{Fields: []string{"status", "due"}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := s.Lookup("widgets")
	if len(c.Indexes) != 1 || c.Indexes[0].Name != "status+due" || c.Indexes[0].Field != "status+due" || !c.Indexes[0].Compound() {
		t.Fatalf("declared: %+v", c.Indexes)
	}
	if c.IndexFor("status+due") != nil || c.IndexFor("status") != nil {
		t.Fatal("IndexFor found a compound index as a single field's")
	}
	if s2, err := s.WithIndex("widgets", Index{Fields: []string{"status", "due"}}); err != nil || s2 != s {
		t.Fatalf("declared again: %v", err)
	}
	for _, tc := range []struct {
		ix   Index
		want string
	}{
		{Index{Fields: []string{"a", "a"}}, "given twice"},
		{Index{Fields: []string{"a", ""}}, "field"},
		{Index{Fields: []string{"a", "b"}, Type: TypeNumber}, "any type"},
		{Index{Fields: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}}, "at most 8"},
	} {
		if _, err := s.WithIndex("widgets", tc.ix); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error saying %q", tc.ix, err, tc.want)
		}
	}
}

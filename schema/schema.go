package schema

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Errors.
var (
	// ErrUnknownCollection: a name that is neither built in nor a valid
	// user collection name.
	ErrUnknownCollection = errors.New("cairn: unknown collection")
	// ErrInvalidID: an id that is empty, over MaxIDLen bytes, not UTF-8 or
	// holds NUL.
	ErrInvalidID = errors.New("cairn: invalid id")
	// ErrInvalidIndex: an index declaration that cannot be honoured.
	ErrInvalidIndex = errors.New("cairn: invalid index")
)

// Kind is the kind of a collection.
type Kind int

// Collection kinds.
const (
	Entity    Kind = iota // documents addressed by id
	Singleton             // one document, addressed by the collection name
	Extras                // any JSON value under a key (the old app's unknown keys)
)

func (k Kind) String() string {
	switch k {
	case Entity:
		return "entity"
	case Singleton:
		return "singleton"
	case Extras:
		return "extras"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Collection declares one collection.
type Collection struct {
	Name string
	Kind Kind
	// BuiltIn is true for the old app's collections: their declarations
	// are fixed, and their indexes cannot be dropped.
	BuiltIn bool
	// ArrayParts are array fields stored one chunk of elements per key, so
	// that appending one element rewrites one small key; BlobParts are
	// large fields stored whole under their own key, so that a document
	// can be read without them (see buckets' package documentation).
	ArrayParts []string
	BlobParts  []string
	// Summary lists the document fields copied verbatim into the
	// metadata summary a listing reads; Derived adds computed ones.
	Summary []string
	Derived []Derived
	// Timestamps are the paths whose values are instants: ISO 8601 strings
	// and epoch milliseconds compare, index and sort as times. A path
	// through an array ("updates.timestamp") applies to every element.
	Timestamps []string
	// Indexes are the secondary indexes, built-in and declared.
	Indexes []Index
	// Search lists the searchable fields; nil for a collection that is not
	// searched. A user collection searches every string field (AllText).
	Search []SearchField
	// AllText, for a user collection, indexes every string field of a
	// document for search under its top-level name.
	AllText bool
	// BlobRef is the field naming the SHA-256 of attachment content the
	// documents refer to (their references are counted), or "".
	BlobRef string
	// Columns are the summary fields a listing shows, in order.
	Columns []string
}

// Derived is a summary field computed from the document.
type Derived struct {
	Name string
	// Exactly one of:
	Count string   // the number of elements of this array part
	Title []string // a one-line title from the first of these text fields that has one
	Copy  string   // the value of this document field, under Name
}

// IndexType says how an index reads values.
type IndexType string

// Index types. An index holds every scalar value of its field, each
// compared by its JSON type, so that a query through it answers exactly
// what a scan does; TypeTime also declares the field's paths instants
// (ISO 8601 strings and epoch milliseconds compare as times). TypeString
// and TypeNumber say what the application stores there.
const (
	TypeAny    IndexType = ""
	TypeString IndexType = "string"
	TypeNumber IndexType = "number"
	TypeTime   IndexType = "time"
)

// Index declares one secondary index.
type Index struct {
	// Name is the index's name, part of its bucket's name.
	Name string
	// Field is the query field it serves: a document path, or LinksField.
	Field string
	// Paths are the document paths whose values it indexes (one, or
	// several for the links index). Arrays contribute each element.
	Paths []string
	// Type restricts the values indexed (user indexes).
	Type IndexType
	// Folded indexes hold strings case-folded: they answer = and in only.
	Folded bool
	// Stats indexes keep a histogram of their values for the planner.
	Stats bool
	// BuiltIn marks an index of a built-in collection's declaration.
	BuiltIn bool
	// Fields, when it has two or more document paths, makes the index
	// compound: one key per document, the ordered encodings of each
	// field's value in turn, so that equality on a prefix of Fields plus a
	// range or sort on the next field is one range of keys. Field is then
	// the fields joined by "+" ("status+startTime"), as is the default
	// Name, and Paths equals Fields. A document lacking any of the fields
	// (or holding null there) is not in the index; an array contributes
	// each element, so a document may have several keys. Nil for a
	// single-field index.
	Fields []string
}

// Compound reports whether ix is a compound index (Fields).
func (ix *Index) Compound() bool { return len(ix.Fields) >= 2 }

// CompoundField is the query field name of a compound index over fields:
// the fields joined by "+".
func CompoundField(fields []string) string { return strings.Join(fields, "+") }

// LinksField is the virtual query field of the links index: the union of
// the ids a document links to (relationships[].targetId and the legacy
// link fields, docs/FORMAT.md §7.1).
const LinksField = "@links"

// SearchRole says how a search field takes part in ranking.
type SearchRole int

// Search roles.
const (
	RoleBody  SearchRole = iota // ordinary text
	RoleTitle                   // the document's name or title: matches rank higher
	RoleTags                    // whole-value tags
)

// SearchField is one searchable field: field:word in a search looks in it
// only.
type SearchField struct {
	Name string
	// Paths are the document paths whose strings feed it; through arrays,
	// every element; a last element "*" takes every field of an object.
	Paths []string
	// Derived, instead of Paths, names a Derived summary field of the
	// collection whose value feeds it (a note's title).
	Derived string
	Role    SearchRole
}

// MaxIDLen is the longest id, in bytes.
const MaxIDLen = 256

// CheckID returns an error wrapping ErrInvalidID unless id is 1 to MaxIDLen
// bytes of valid UTF-8 without NUL: the one id rule of every entity and
// extras collection.
func CheckID(id string) error {
	switch {
	case len(id) == 0:
		return fmt.Errorf("%w: empty", ErrInvalidID)
	case len(id) > MaxIDLen:
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrInvalidID, len(id), MaxIDLen)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidID)
	case strings.IndexByte(id, 0) >= 0:
		return fmt.Errorf("%w: contains a NUL byte", ErrInvalidID)
	}
	return nil
}

// Key returns the storage key of a document of c: its id, or the
// collection name for a singleton.
func (c *Collection) Key(id string) (string, error) {
	if c.Kind == Singleton {
		return c.Name, nil
	}
	if err := CheckID(id); err != nil {
		return "", err
	}
	return id, nil
}

// MaxNameLen is the longest collection name.
const MaxNameLen = 64

// ValidName returns an error wrapping ErrUnknownCollection unless name
// is a built-in collection or a valid user collection name:
// [a-z][a-zA-Z0-9_-]{0,63}.
func ValidName(name string) error {
	if _, ok := builtinIndex[name]; ok {
		return nil
	}
	ok := len(name) >= 1 && len(name) <= MaxNameLen && name[0] >= 'a' && name[0] <= 'z'
	for i := 1; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	if !ok {
		return fmt.Errorf("%w %q: a collection name is a built-in one (%s) or matches [a-z][a-zA-Z0-9_-]{0,63}",
			ErrUnknownCollection, name, strings.Join(BuiltinNames(), ", "))
	}
	return nil
}

// IsPart reports whether field is stored as a part of c's documents, and
// whether it is an array part.
func (c *Collection) IsPart(field string) (part, array bool) {
	if slices.Contains(c.ArrayParts, field) {
		return true, true
	}
	return slices.Contains(c.BlobParts, field), false
}

// IsTimestamp reports whether path is declared an instant in c.
func (c *Collection) IsTimestamp(path string) bool { return slices.Contains(c.Timestamps, path) }

// IndexFor returns the index serving query field in c, or nil.
func (c *Collection) IndexFor(field string) *Index {
	for i := range c.Indexes {
		if c.Indexes[i].Field == field && !c.Indexes[i].Compound() {
			return &c.Indexes[i]
		}
	}
	return nil
}

// HasMeta reports whether c keeps metadata summaries (entity and extras
// collections).
func (c *Collection) HasMeta() bool { return c.Kind == Entity || c.Kind == Extras }

// Searched reports whether c's documents go into the search index.
func (c *Collection) Searched() bool { return c.Kind == Entity && (len(c.Search) > 0 || c.AllText) }

// clone returns a deep copy of c, so a Schema never shares what a caller
// may change.
func (c *Collection) clone() *Collection {
	d := *c
	d.ArrayParts = slices.Clone(c.ArrayParts)
	d.BlobParts = slices.Clone(c.BlobParts)
	d.Summary = slices.Clone(c.Summary)
	d.Derived = slices.Clone(c.Derived)
	for i := range d.Derived {
		d.Derived[i].Title = slices.Clone(d.Derived[i].Title)
	}
	d.Timestamps = slices.Clone(c.Timestamps)
	d.Indexes = slices.Clone(c.Indexes)
	for i := range d.Indexes {
		d.Indexes[i].Paths = slices.Clone(d.Indexes[i].Paths)
		d.Indexes[i].Fields = slices.Clone(d.Indexes[i].Fields)
	}
	d.Search = slices.Clone(c.Search)
	for i := range d.Search {
		d.Search[i].Paths = slices.Clone(d.Search[i].Paths)
	}
	d.Columns = slices.Clone(c.Columns)
	return &d
}

// userCollection is the declaration of a user collection before any index
// is declared on it.
func userCollection(name string) *Collection {
	return &Collection{Name: name, Kind: Entity, AllText: true,
		Summary: []string{"name", "title", "status", "createdAt", "updatedAt"},
		Columns: []string{"id", "name", "title", "status", "updatedAt"}}
}

// Schema is the set of collections of one store: the built-in ones and the
// user collections that have declared indexes (any other valid name is a
// user collection without indexes). It is immutable and safe for
// concurrent use.
type Schema struct {
	user  map[string]*Collection // user collections with declared indexes
	plain sync.Map               // name → *Collection: user collections without, as looked up
}

// New returns the schema holding the built-in collections and the user
// indexes given (as a store persisted them).
func New(userIndexes map[string][]Index) (*Schema, error) {
	s := &Schema{user: map[string]*Collection{}}
	names := make([]string, 0, len(userIndexes))
	for n := range userIndexes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, ix := range userIndexes[n] {
			var err error
			if s, err = s.WithIndex(n, ix); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// Lookup returns the declaration of collection name: a built-in one, a
// user collection with its declared indexes, or a user collection without
// indexes for any other valid name. The result is shared and must not be
// modified.
func (s *Schema) Lookup(name string) (*Collection, error) {
	if c, ok := builtinIndex[name]; ok {
		return c, nil
	}
	if s != nil {
		if c, ok := s.user[name]; ok {
			return c, nil
		}
	}
	if err := ValidName(name); err != nil {
		return nil, err
	}
	if s == nil {
		return userCollection(name), nil
	}
	c, _ := s.plain.LoadOrStore(name, userCollection(name))
	return c.(*Collection), nil
}

// UserIndexes returns the indexes declared on user collections, by
// collection.
func (s *Schema) UserIndexes() map[string][]Index {
	out := map[string][]Index{}
	if s == nil {
		return out
	}
	for n, c := range s.user {
		out[n] = c.clone().Indexes
	}
	return out
}

// WithIndex returns a schema in which user collection coll also has index
// ix. ix.Name defaults to ix.Field, ix.Paths to [ix.Field]. Built-in
// collections take no declared index.
func (s *Schema) WithIndex(coll string, ix Index) (*Schema, error) {
	if _, ok := builtinIndex[coll]; ok {
		return nil, fmt.Errorf("%w: %s is a built-in collection; its indexes are fixed", ErrInvalidIndex, coll)
	}
	if err := ValidName(coll); err != nil {
		return nil, err
	}
	if len(ix.Fields) == 1 {
		ix.Field, ix.Fields = ix.Fields[0], nil
	}
	if ix.Compound() {
		ix.Fields = slices.Clone(ix.Fields)
		ix.Field = CompoundField(ix.Fields)
		ix.Paths = slices.Clone(ix.Fields)
	}
	if ix.Name == "" {
		ix.Name = ix.Field
	}
	if len(ix.Paths) == 0 {
		ix.Paths = []string{ix.Field}
	}
	if err := checkIndex(ix); err != nil {
		return nil, err
	}
	shared, err := s.Lookup(coll)
	if err != nil {
		return nil, err
	}
	c := shared.clone()
	for _, have := range c.Indexes {
		if have.Name == ix.Name {
			if have.Field == ix.Field && have.Type == ix.Type && slices.Equal(have.Paths, ix.Paths) && slices.Equal(have.Fields, ix.Fields) {
				return s, nil // declared again, the same
			}
			return nil, fmt.Errorf("%w: %s already has an index %s (on %s, type %q)", ErrInvalidIndex, coll, have.Name, have.Field, have.Type)
		}
	}
	ix.BuiltIn = false
	c.Indexes = append(c.Indexes, ix)
	if ix.Type == TypeTime {
		for _, p := range ix.Paths {
			if !c.IsTimestamp(p) {
				c.Timestamps = append(c.Timestamps, p)
			}
		}
	}
	n := s.copy()
	n.user[coll] = c
	return n, nil
}

// WithoutIndex returns a schema in which user collection coll no longer
// has the index named name.
func (s *Schema) WithoutIndex(coll, name string) (*Schema, error) {
	if _, ok := builtinIndex[coll]; ok {
		return nil, fmt.Errorf("%w: %s is a built-in collection; its indexes cannot be dropped", ErrInvalidIndex, coll)
	}
	shared, err := s.Lookup(coll)
	if err != nil {
		return nil, err
	}
	c := shared.clone()
	i := slices.IndexFunc(c.Indexes, func(x Index) bool { return x.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("%w: %s has no index %s", ErrInvalidIndex, coll, name)
	}
	c.Indexes = slices.Delete(c.Indexes, i, i+1)
	c.Timestamps = nil
	for _, x := range c.Indexes {
		if x.Type == TypeTime {
			c.Timestamps = append(c.Timestamps, x.Paths...)
		}
	}
	n := s.copy()
	if len(c.Indexes) == 0 {
		delete(n.user, coll)
	} else {
		n.user[coll] = c
	}
	return n, nil
}

func (s *Schema) copy() *Schema {
	n := &Schema{user: map[string]*Collection{}}
	if s != nil {
		for k, v := range s.user {
			n.user[k] = v
		}
	}
	return n
}

// checkIndex validates a declared index.
func checkIndex(ix Index) error {
	if ix.Compound() {
		seen := map[string]bool{}
		for _, f := range ix.Fields {
			if err := CheckPath(f); err != nil {
				return fmt.Errorf("%w: field: %v", ErrInvalidIndex, err)
			}
			if seen[f] {
				return fmt.Errorf("%w: field %s given twice in compound index %s", ErrInvalidIndex, f, CompoundField(ix.Fields))
			}
			seen[f] = true
		}
		if len(ix.Fields) > 8 {
			return fmt.Errorf("%w: compound index %s has %d fields (at most 8)", ErrInvalidIndex, CompoundField(ix.Fields), len(ix.Fields))
		}
		if ix.Folded || ix.Type != TypeAny {
			return fmt.Errorf("%w: a compound index holds values of any type and is not case-folded (declare a field's type with a single-field index)", ErrInvalidIndex)
		}
	} else if err := CheckPath(ix.Field); err != nil {
		return fmt.Errorf("%w: field: %v", ErrInvalidIndex, err)
	}
	if !validIndexName(ix.Name) {
		return fmt.Errorf("%w: name %q (1 to 64 bytes of letters, digits, '.', '_', '-' and '+')", ErrInvalidIndex, ix.Name)
	}
	for _, p := range ix.Paths {
		if err := CheckPath(p); err != nil {
			return fmt.Errorf("%w: path: %v", ErrInvalidIndex, err)
		}
	}
	switch ix.Type {
	case TypeAny, TypeString, TypeNumber, TypeTime:
	default:
		return fmt.Errorf("%w: type %q (string, number or time)", ErrInvalidIndex, ix.Type)
	}
	if ix.Folded && ix.Type != TypeString && ix.Type != TypeAny {
		return fmt.Errorf("%w: only a string index can be case-folded", ErrInvalidIndex)
	}
	return nil
}

func validIndexName(n string) bool {
	if len(n) == 0 || len(n) > 64 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '+') {
			return false
		}
	}
	return true
}

// CheckPath validates a document path: dot-separated non-empty field
// names, at most 256 bytes, valid UTF-8 without NUL.
func CheckPath(p string) error {
	if p == "" || len(p) > 256 || !utf8.ValidString(p) || strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("bad path %q", p)
	}
	for _, f := range strings.Split(p, ".") {
		if f == "" {
			return fmt.Errorf("bad path %q: empty field name", p)
		}
	}
	return nil
}

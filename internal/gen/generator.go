package gen

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"time"
)

// Collection names, in the order Each is expected to be driven by a loader:
// the entities that others refer to come first.
var Collections = []string{"topics", "companies", "contacts", "notes", "tasks", "sessions", "attachments"}

type coll uint8

const (
	collTopics coll = iota
	collCompanies
	collContacts
	collNotes
	collTasks
	collSessions
	collAttachments
	numColls
)

var collNames = [numColls]string{"topics", "companies", "contacts", "notes", "tasks", "sessions", "attachments"}

func collByName(name string) (coll, bool) {
	for k, n := range collNames {
		if n == name {
			return coll(k), true
		}
	}
	return 0, false
}

// Random streams. Each document draws from its own PCG seeded from
// (Config.Seed, collection, stream, index), so any document can be built
// alone, in any order, with the same result.
const (
	streamHeader  = iota + 1 // id, time, ownership: cheap, read by other documents
	streamBody               // the document itself
	streamName               // display names of topics, companies, contacts
	streamPair               // a relationship stored on two documents
	streamContent            // attachment bytes
	streamSettings
)

// The time span of the dataset: 2024-01-01 to 2026-01-01 (exclusive), UTC.
var (
	spanStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	spanEnd   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
)

// TimeSpan returns the interval [start, end) that every generated entity
// timestamp falls in: 2024-01-01 to 2026-01-01 UTC. Session start times are
// uniform over it, less the last four hours.
func TimeSpan() (start, end time.Time) {
	return time.UnixMilli(spanStart).UTC(), time.UnixMilli(spanEnd).UTC()
}

const (
	minute = int64(60_000)
	hour   = 60 * minute
	day    = 24 * hour
)

// Generator builds the documents of one Config. It holds no mutable state,
// so it is safe for concurrent use: callers may build documents in parallel
// by index.
type Generator struct {
	cfg  Config
	n    [numColls]int
	seed uint64
	keys [numColls]uint64 // id-suffix permutation keys
}

// New returns a generator for cfg with defaults applied.
func New(cfg Config) *Generator {
	cfg = cfg.WithDefaults()
	g := &Generator{cfg: cfg, n: countsOf(cfg), seed: splitmix(uint64(cfg.Seed))}
	for k := range numColls {
		g.keys[k] = splitmix(g.seed ^ uint64(k)<<40 ^ 0x1d)
	}
	return g
}

// Config returns the generator's configuration with defaults applied.
func (g *Generator) Config() Config { return g.cfg }

// Count returns the number of documents in collection, or 0 if there is no
// such collection.
func (g *Generator) Count(collection string) int {
	c, ok := collByName(collection)
	if !ok {
		return 0
	}
	return g.n[c]
}

// Each calls fn with every document of collection in index order (index 0
// first) and stops at the first error fn returns, returning it. An unknown
// collection returns an error wrapping ErrUnknownCollection. fn owns each
// document: the generator keeps no reference to it.
func (g *Generator) Each(collection string, fn func(doc map[string]any) error) error {
	c, ok := collByName(collection)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownCollection, collection)
	}
	for i := range g.n[c] {
		if err := fn(g.doc(c, i)); err != nil {
			return err
		}
	}
	return nil
}

// Doc returns document i of collection. It returns an error wrapping
// ErrUnknownCollection or ErrOutOfRange instead of panicking.
func (g *Generator) Doc(collection string, i int) (map[string]any, error) {
	c, ok := collByName(collection)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownCollection, collection)
	}
	if i < 0 || i >= g.n[c] {
		return nil, fmt.Errorf("%w: %s index %d, count %d", ErrOutOfRange, collection, i, g.n[c])
	}
	return g.doc(c, i), nil
}

// ID returns the id of document i of collection without building the
// document, or "" if the collection is unknown or i is out of range. Ids are
// unique within a collection.
func (g *Generator) ID(collection string, i int) string {
	c, ok := collByName(collection)
	if !ok || i < 0 || i >= g.n[c] {
		return ""
	}
	return g.id(c, i)
}

func (g *Generator) doc(c coll, i int) map[string]any {
	switch c {
	case collTopics:
		return g.Topic(i)
	case collCompanies:
		return g.Company(i)
	case collContacts:
		return g.Contact(i)
	case collNotes:
		return g.Note(i)
	case collTasks:
		return g.Task(i)
	case collSessions:
		return g.Session(i)
	case collAttachments:
		return g.Attachment(i)
	}
	panic("gen: unknown collection")
}

func (g *Generator) check(c coll, i int) {
	if i < 0 || i >= g.n[c] {
		panic(fmt.Sprintf("gen: %s index %d out of range [0,%d)", collNames[c], i, g.n[c]))
	}
}

// id is "<epoch ms>-<9 base36>" (the app's generateId), or
// "attachment-<epoch ms>-<9 base36>" for attachments. The suffix is a
// bijection of the index, so ids never collide within a collection.
func (g *Generator) id(c coll, i int) string {
	var ms int64
	switch c {
	case collSessions:
		ms = g.sessionHeader(i).start
	case collNotes:
		ms = g.noteHeader(i).ms
	case collTasks:
		ms = g.taskHeader(i).ms
	case collAttachments:
		ms = g.attachmentMS(i)
	default:
		ms = g.entityMS(c, i)
	}
	return g.idAt(c, i, ms)
}

func (g *Generator) idAt(c coll, i int, ms int64) string {
	var b [48]byte
	buf := b[:0]
	if c == collAttachments {
		buf = append(buf, "attachment-"...)
	}
	buf = appendInt(buf, ms)
	buf = append(buf, '-')
	buf = appendBase36(buf, permute46(uint64(i), g.keys[c]))
	return string(buf)
}

// rng is a PCG from math/rand/v2 with the few draws the generator needs.
// It is a value, so seeding one allocates nothing.
type rng struct{ p rand.PCG }

func (g *Generator) rng(c coll, stream uint64, i int) rng {
	hi := splitmix(g.seed ^ splitmix(uint64(c)<<8|stream))
	lo := splitmix(hi ^ splitmix(uint64(i)))
	var r rng
	r.p.Seed(hi, lo)
	return r
}

func (r *rng) u64() uint64 { return r.p.Uint64() }

// intn returns a value in [0, n); n must be positive.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

func (r *rng) chance(p float64) bool { return r.float() < p }

// skewed returns a value in [0, n) where small values are more likely: the
// first 10% of the range gets about 30% of the draws.
func (r *rng) skewed(n int) int {
	u := r.float()
	return int(float64(n) * u * u)
}

// weighted returns an index into w, whose entries sum to about 1.
func (r *rng) weighted(w []float64) int {
	u := r.float()
	for k, p := range w {
		if u < p {
			return k
		}
		u -= p
	}
	return len(w) - 1
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

const mask46 = 1<<46 - 1

// permute46 is a keyed bijection on [0, 2^46): each step (add, xorshift,
// odd multiply, all modulo 2^46) is invertible.
func permute46(x, key uint64) uint64 {
	x = (x + key) & mask46
	x ^= x >> 23
	x = (x * 0x2545f4914f6cdd1d) & mask46
	x ^= x >> 19
	x = (x * 0x5851f42d4c957f2d) & mask46
	x ^= x >> 23
	return x
}

const base36 = "0123456789abcdefghijklmnopqrstuvwxyz"

// appendBase36 appends x (< 36^9) as exactly nine base-36 digits.
func appendBase36(buf []byte, x uint64) []byte {
	var d [9]byte
	for k := 8; k >= 0; k-- {
		d[k] = base36[x%36]
		x /= 36
	}
	return append(buf, d[:]...)
}

func appendInt(buf []byte, v int64) []byte {
	if v < 0 {
		buf = append(buf, '-')
		v = -v
	}
	var d [20]byte
	k := len(d)
	for {
		k--
		d[k] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(buf, d[k:]...)
}

package gen

import (
	"encoding/hex"
	"math"
	"time"
)

// builder builds one document from one random stream. Strings are built in
// a scratch buffer that is reused, so each string costs one allocation.
type builder struct {
	g   *Generator
	r   rng
	buf []byte
}

func (g *Generator) newBuilder(c coll, stream uint64, i int) *builder {
	return &builder{g: g, r: g.rng(c, stream, i), buf: make([]byte, 0, 512)}
}

// str returns the scratch buffer as a string and empties it.
func (b *builder) str() string {
	s := string(b.buf)
	b.buf = b.buf[:0]
	return s
}

func (b *builder) pick(list []string) string { return list[b.r.intn(len(list))] }

// conf returns a confidence in [lo, 1) rounded to two decimals.
func (b *builder) conf(lo float64) float64 {
	return math.Round((lo+(1-lo)*b.r.float())*100) / 100
}

const isoLayout = "2006-01-02T15:04:05.000Z"

// iso formats epoch ms as the app's toISOString: UTC, milliseconds, Z.
func iso(ms int64) string { return time.UnixMilli(ms).UTC().Format(isoLayout) }

// randID is a generateId-style id with a random suffix, for embedded records
// (screenshots, segments, subtasks) whose uniqueness only matters locally.
func (b *builder) randID(ms int64) string {
	b.buf = appendInt(b.buf[:0], ms)
	b.buf = append(b.buf, '-')
	b.buf = appendBase36(b.buf, b.r.u64()%101559956668416) // 36^9
	return b.str()
}

func (b *builder) attachmentRef(ms int64) string {
	b.buf = append(b.buf[:0], "attachment-"...)
	b.buf = appendInt(b.buf, ms)
	b.buf = append(b.buf, '-')
	b.buf = appendBase36(b.buf, b.r.u64()%101559956668416)
	return b.str()
}

// hash returns 64 random hex digits, shaped like a sha256.
func (b *builder) hash() string {
	var raw [32]byte
	for k := 0; k < 32; k += 8 {
		v := b.r.u64()
		for j := range 8 {
			raw[k+j] = byte(v >> (8 * j))
		}
	}
	b.buf = hex.AppendEncode(b.buf[:0], raw[:])
	return b.str()
}

func (b *builder) appendNoun(buf []byte, plural bool) []byte {
	n := nouns[b.r.skewed(len(nouns))]
	if plural {
		return append(buf, n[1]...)
	}
	return append(buf, n[0]...)
}

// appendNP appends "[adjective] noun".
func (b *builder) appendNP(buf []byte) []byte {
	if b.r.chance(0.4) {
		buf = append(buf, adjectives[b.r.intn(len(adjectives))]...)
		buf = append(buf, ' ')
	}
	return b.appendNoun(buf, b.r.chance(0.3))
}

func (b *builder) appendVerb(buf []byte, form int) []byte {
	return append(buf, verbs[b.r.skewed(len(verbs))][form]...)
}

func (b *builder) appendPhrase(buf []byte) []byte {
	if b.r.chance(0.6) {
		buf = append(buf, ' ')
		buf = append(buf, phrases[b.r.intn(len(phrases))]...)
	}
	return buf
}

func (b *builder) appendPerson(buf []byte) []byte {
	if n := b.g.n[collContacts]; n > 0 {
		return b.g.appendContactName(buf, b.r.skewed(n))
	}
	buf = append(buf, firstNames[b.r.intn(len(firstNames))]...)
	buf = append(buf, ' ')
	return append(buf, lastNames[b.r.intn(len(lastNames))]...)
}

func (b *builder) appendCompany(buf []byte) []byte {
	if n := b.g.n[collCompanies]; n > 0 {
		return b.g.appendCompanyName(buf, b.r.skewed(n))
	}
	return append(buf, companyPrefixes[b.r.intn(len(companyPrefixes))]...)
}

func (b *builder) appendSubject(buf []byte, lower bool) []byte {
	s := subjects[b.r.intn(len(subjects))]
	if lower && s != "I" && s != "Engineering" && s != "Marketing" && s != "Finance" &&
		s != "Support" && s != "Sales" && s != "Legal" && s != "Ops" {
		buf = append(buf, s[0]+('a'-'A'))
		return append(buf, s[1:]...)
	}
	return append(buf, s...)
}

// appendSentence appends one English-like sentence built from the
// vocabulary, ending in a full stop.
func (b *builder) appendSentence(buf []byte) []byte {
	r := &b.r
	switch r.intn(12) {
	case 0, 1, 2:
		buf = b.appendSubject(buf, false)
		buf = append(buf, ' ')
		buf = b.appendVerb(buf, 1)
		buf = append(buf, " the "...)
		buf = b.appendNP(buf)
		buf = b.appendPhrase(buf)
	case 3:
		buf = append(buf, "Need to "...)
		buf = b.appendVerb(buf, 0)
		buf = append(buf, " the "...)
		buf = b.appendNP(buf)
		buf = b.appendPhrase(buf)
	case 4:
		buf = b.appendSubject(buf, false)
		buf = append(buf, " will "...)
		buf = b.appendVerb(buf, 0)
		buf = append(buf, " the "...)
		buf = b.appendNoun(buf, r.chance(0.5))
		buf = b.appendPhrase(buf)
	case 5:
		buf = b.appendSubject(buf, false)
		buf = append(buf, " kept "...)
		buf = b.appendVerb(buf, 2)
		buf = append(buf, " the "...)
		buf = b.appendNoun(buf, true)
		buf = b.appendPhrase(buf)
	case 6:
		buf = append(buf, "Follow up with "...)
		buf = b.appendPerson(buf)
		buf = append(buf, " about the "...)
		buf = b.appendNP(buf)
	case 7:
		buf = b.appendSubject(buf, false)
		buf = append(buf, ' ')
		buf = b.appendVerb(buf, 1)
		buf = append(buf, " the "...)
		buf = b.appendNoun(buf, false)
		buf = append(buf, ", "...)
		buf = append(buf, connectors[r.intn(len(connectors))]...)
		buf = append(buf, ' ')
		buf = b.appendSubject(buf, true)
		buf = append(buf, ' ')
		buf = b.appendVerb(buf, 1)
		buf = append(buf, " the "...)
		buf = b.appendNP(buf)
	case 8:
		buf = append(buf, "Decision: "...)
		buf = b.appendVerb(buf, 0)
		buf = append(buf, " the "...)
		buf = b.appendNP(buf)
		buf = b.appendPhrase(buf)
	case 9:
		buf = b.appendPerson(buf)
		buf = append(buf, " from "...)
		buf = b.appendCompany(buf)
		buf = append(buf, ' ')
		buf = b.appendVerb(buf, 1)
		buf = append(buf, " the "...)
		buf = b.appendNP(buf)
		buf = b.appendPhrase(buf)
	case 10:
		buf = append(buf, "The "...)
		buf = b.appendNoun(buf, false)
		buf = append(buf, " for "...)
		buf = b.appendCompany(buf)
		buf = append(buf, " is "...)
		buf = append(buf, adjectives[r.intn(len(adjectives))]...)
		buf = append(buf, " and "...)
		buf = b.appendSubject(buf, true)
		buf = append(buf, " will "...)
		buf = b.appendVerb(buf, 0)
		buf = append(buf, " it"...)
		buf = b.appendPhrase(buf)
	default:
		buf = append(buf, "Spent "...)
		buf = appendInt(buf, int64(r.between(5, 90)))
		buf = append(buf, " minutes "...)
		buf = b.appendVerb(buf, 2)
		buf = append(buf, " the "...)
		buf = b.appendNP(buf)
		buf = b.appendPhrase(buf)
	}
	return append(buf, '.')
}

// sentences returns n sentences separated by spaces.
func (b *builder) sentences(n int) string {
	b.buf = b.appendSentences(b.buf[:0], n)
	return b.str()
}

func (b *builder) appendSentences(buf []byte, n int) []byte {
	for k := range n {
		if k > 0 {
			buf = append(buf, ' ')
		}
		buf = b.appendSentence(buf)
	}
	return buf
}

// sentenceList returns n separate sentences.
func (b *builder) sentenceList(n int) []any {
	out := make([]any, n)
	for k := range out {
		out[k] = b.sentences(1)
	}
	return out
}

// fragment returns a short noun phrase ("quarterly budget").
func (b *builder) fragment() string {
	b.buf = b.appendNP(b.buf[:0])
	return b.str()
}

// title returns a capitalised noun phrase with a verb, for names and titles.
func (b *builder) title() string {
	buf := b.buf[:0]
	switch b.r.intn(3) {
	case 0:
		buf = b.appendVerb(buf, 0)
		buf = append(buf, " the "...)
		buf = b.appendNP(buf)
	case 1:
		buf = b.appendNP(buf)
		buf = append(buf, " with "...)
		buf = b.appendCompany(buf)
	default:
		buf = b.appendNoun(buf, false)
		buf = append(buf, ' ')
		buf = b.appendVerb(buf, 2)
	}
	if len(buf) > 0 && buf[0] >= 'a' && buf[0] <= 'z' {
		buf[0] -= 'a' - 'A'
	}
	b.buf = buf
	return b.str()
}

// speech returns n sentences of transcribed speech, with fillers.
func (b *builder) speech(n int) string {
	buf := b.buf[:0]
	for k := range n {
		if k > 0 {
			buf = append(buf, ' ')
		}
		if b.r.chance(0.35) {
			f := fillers[b.r.intn(len(fillers))]
			start := len(buf)
			buf = append(buf, f...)
			if c := buf[start]; c >= 'a' && c <= 'z' {
				buf[start] = c - ('a' - 'A')
			}
			buf = append(buf, ", "...)
			start = len(buf)
			buf = b.appendSentence(buf)
			lowerFirst(buf[start:])
		} else {
			buf = b.appendSentence(buf)
		}
	}
	b.buf = buf
	return b.str()
}

// properNouns are sentence-initial words that keep their capital letter.
var properNouns = func() map[string]bool {
	m := map[string]bool{"I": true, "Engineering": true, "Marketing": true, "Finance": true,
		"Support": true, "Sales": true, "Legal": true, "Ops": true}
	for _, s := range firstNames {
		m[s] = true
	}
	for _, s := range companyPrefixes {
		m[s] = true
	}
	return m
}()

// lowerFirst lower-cases the first letter of sentence unless its first word
// is a proper noun.
func lowerFirst(sentence []byte) {
	w := sentence
	for k, c := range sentence {
		if c == ' ' || c == ':' || c == ',' {
			w = sentence[:k]
			break
		}
	}
	if len(w) > 0 && w[0] >= 'A' && w[0] <= 'Z' && !properNouns[string(w)] {
		sentence[0] += 'a' - 'A'
	}
}

// ocr returns about n tokens of text as read off a screen: UI labels,
// figures and words, with line breaks.
func (b *builder) ocr(n int) string {
	buf := b.buf[:0]
	r := &b.r
	for k := range n {
		if k > 0 {
			if r.intn(8) == 0 {
				buf = append(buf, '\n')
			} else {
				buf = append(buf, ' ')
			}
		}
		switch u := r.intn(20); {
		case u < 9:
			buf = append(buf, uiTokens[r.intn(len(uiTokens))]...)
		case u < 12:
			switch r.intn(3) {
			case 0:
				buf = append(buf, '$')
				buf = appendInt(buf, int64(r.between(1, 999)))
				buf = append(buf, ',')
				buf = appendInt(buf, int64(r.between(100, 999)))
			case 1:
				buf = appendInt(buf, int64(r.intn(100)))
				buf = append(buf, '%')
			default:
				buf = appendInt(buf, int64(r.intn(10000)))
			}
		case u < 17:
			buf = b.appendNP(buf)
		case u < 19:
			buf = b.appendVerb(buf, r.intn(3))
		default:
			buf = b.appendSentence(buf)
		}
	}
	b.buf = buf
	return b.str()
}

// markdown returns a note body: a heading, paragraphs, bullets and action
// items; paras and bullets scale it.
func (b *builder) markdown(paras, bullets int) string {
	buf := append(b.buf[:0], "# "...)
	start := len(buf)
	buf = b.appendNP(buf)
	if c := buf[start]; c >= 'a' && c <= 'z' {
		buf[start] = c - ('a' - 'A')
	}
	buf = append(buf, " notes\n\n"...)
	for range paras {
		buf = b.appendSentences(buf, b.r.between(2, 5))
		buf = append(buf, "\n\n"...)
	}
	if bullets > 0 {
		buf = append(buf, "## Discussion\n"...)
		for range bullets {
			buf = append(buf, "- "...)
			buf = b.appendSentence(buf)
			buf = append(buf, '\n')
		}
		buf = append(buf, "\n## Action items\n"...)
		for range b.r.between(1, 4) {
			buf = append(buf, "- [ ] "...)
			buf = b.appendSentence(buf)
			buf = append(buf, '\n')
		}
	}
	b.buf = buf
	return b.str()
}

// Tags.

var primaryTagWeights = func() [len(tagList)]float64 {
	var w [len(tagList)]float64
	rare := 0.0
	for k, p := range rareTagWeights {
		w[commonTags+k] = p
		rare += p
	}
	z := 0.0
	for k := range commonTags {
		w[k] = 1 / math.Pow(float64(k+1), 1.1)
		z += w[k]
	}
	for k := range commonTags {
		w[k] *= (1 - rare) / z
	}
	return w
}()

// tags draws 1–4 distinct tags: a primary tag by primaryTagWeights, then
// extra tags uniformly from the common tags other than the primary.
func (b *builder) tags() []any {
	r := &b.r
	k := 1 + r.weighted(tagCountWeights[:])
	p := r.weighted(primaryTagWeights[:])
	out := make([]any, 1, k)
	out[0] = tagList[p]
	var pool [commonTags]uint8
	m := 0
	for t := range commonTags {
		if t != p {
			pool[m] = uint8(t)
			m++
		}
	}
	for e := range k - 1 {
		j := e + r.intn(m-e)
		pool[e], pool[j] = pool[j], pool[e]
		out = append(out, tagList[pool[e]])
	}
	return out
}

// TagSelectivity returns the probability that a generated session, note or
// task carries tag: the expected fraction of each collection's documents
// that a tag lookup returns. It is 0 for a tag not in Tags. The extremes are
// about 0.24 (Tags[0]) and 0.001 (the last rare tags).
func TagSelectivity(tag string) float64 {
	t := -1
	for k, s := range tagList {
		if s == tag {
			t = k
		}
	}
	if t < 0 {
		return 0
	}
	q := primaryTagWeights[t]
	if t >= commonTags {
		return q
	}
	extras := 0.0
	for k, w := range tagCountWeights {
		extras += float64(k) * w
	}
	qc, qr := 0.0, 0.0
	for k, w := range primaryTagWeights {
		if k < commonTags {
			qc += w
		} else {
			qr += w
		}
	}
	return q + extras*((qc-q)/(commonTags-1)+qr/commonTags)
}

package gen

import "strings"

// Topics, companies and contacts (docs/FORMAT.md §7.5). Their names are a
// function of the index alone, so other documents can mention them by name
// (in text and in detectedEntities) without building them.

// entityMS is the creation time of a topic, company or contact: in the
// first half of 2024, before most of the documents that refer to it.
func (g *Generator) entityMS(c coll, i int) int64 {
	r := g.rng(c, streamHeader, i)
	return spanStart + r.int64n(180*day)
}

func (r *rng) int64n(n int64) int64 { return int64(r.u64() % uint64(n)) }

// appendIndexedName appends a name made of two parts chosen by a bijection
// of i, with " <n>" once the combinations run out, so names are unique.
func appendIndexedName(buf []byte, i int, first, second []string) []byte {
	a, b := len(first), len(second)
	h := i % a
	buf = append(buf, first[h]...)
	buf = append(buf, ' ')
	buf = append(buf, second[(i/a+h)%b]...)
	if rep := i / (a * b); rep > 0 {
		buf = append(buf, ' ')
		buf = appendInt(buf, int64(rep+1))
	}
	return buf
}

func (g *Generator) appendTopicName(buf []byte, i int) []byte {
	return appendIndexedName(buf, i, topicHeads[:], topicTails[:])
}

func (g *Generator) appendCompanyName(buf []byte, i int) []byte {
	return appendIndexedName(buf, i, companyPrefixes[:], companySuffixes[:])
}

func (g *Generator) appendContactName(buf []byte, i int) []byte {
	return appendIndexedName(buf, i, firstNames[:], lastNames[:])
}

func (g *Generator) name(c coll, i int) string {
	var b [64]byte
	switch c {
	case collTopics:
		return string(g.appendTopicName(b[:0], i))
	case collCompanies:
		return string(g.appendCompanyName(b[:0], i))
	default:
		return string(g.appendContactName(b[:0], i))
	}
}

// slug lower-cases name and keeps letters and digits, for domains and emails.
func slug(name string, sep byte) string {
	var sb strings.Builder
	name = strings.ReplaceAll(name, "ü", "ue")
	for k := 0; k < len(name); k++ {
		c := name[k]
		switch {
		case c >= 'A' && c <= 'Z':
			sb.WriteByte(c + 'a' - 'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			sb.WriteByte(c)
		case c == ' ' && sep != 0:
			sb.WriteByte(sep)
		}
	}
	return sb.String()
}

func (g *Generator) entityBase(c coll, i int) (map[string]any, *builder) {
	b := g.newBuilder(c, streamBody, i)
	ms := g.entityMS(c, i)
	updated := ms + b.r.int64n(spanEnd-ms)
	return map[string]any{
		"id":          g.idAt(c, i, ms),
		"name":        g.name(c, i),
		"createdAt":   iso(ms),
		"lastUpdated": iso(updated),
		"noteCount":   float64(b.r.skewed(80)),
	}, b
}

// Topic returns topic i: {id, name, createdAt, lastUpdated, noteCount}.
// noteCount is a denormalised counter and, as in the app, not exact.
func (g *Generator) Topic(i int) map[string]any {
	g.check(collTopics, i)
	doc, _ := g.entityBase(collTopics, i)
	return doc
}

// Company returns company i: topic fields plus profile {industry, size,
// website, description, logoUrl?}.
func (g *Generator) Company(i int) map[string]any {
	g.check(collCompanies, i)
	doc, b := g.entityBase(collCompanies, i)
	domain := slug(doc["name"].(string), 0) + ".com"
	profile := map[string]any{
		"industry":    b.pick(industries[:]),
		"size":        b.pick(companySizes[:]),
		"website":     "https://www." + domain,
		"description": b.sentences(b.r.between(1, 3)),
	}
	if b.r.chance(0.5) {
		profile["logoUrl"] = "https://logo.example.com/" + domain + ".png"
	}
	doc["profile"] = profile
	return doc
}

// Contact returns contact i: topic fields plus profile {role, companyId
// (an existing company), email, phone, photoUrl?}.
func (g *Generator) Contact(i int) map[string]any {
	g.check(collContacts, i)
	doc, b := g.entityBase(collContacts, i)
	profile := map[string]any{"role": b.pick(roles[:])}
	domain := "example.com"
	if n := g.n[collCompanies]; n > 0 && b.r.chance(0.85) {
		j := b.r.skewed(n)
		profile["companyId"] = g.id(collCompanies, j)
		domain = slug(g.name(collCompanies, j), 0) + ".com"
	}
	profile["email"] = slug(doc["name"].(string), '.') + "@" + domain
	if b.r.chance(0.7) {
		b.buf = append(b.buf[:0], "+1-555-"...)
		b.buf = appendInt(b.buf, int64(b.r.between(100, 999)))
		b.buf = append(b.buf, '-')
		b.buf = appendInt(b.buf, int64(b.r.between(1000, 9999)))
		profile["phone"] = b.str()
	}
	if b.r.chance(0.3) {
		profile["photoUrl"] = "https://avatars.example.com/" + slug(doc["name"].(string), '-') + ".jpg"
	}
	doc["profile"] = profile
	return doc
}

package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Attachments (docs/FORMAT.md §7.6). About 40% of attachments are duplicates:
// attachment i copies the content of an earlier attachment (chosen
// uniformly), as the app's screenshots and re-attached files do, so
// content-addressed storage has something to save.

// DuplicateRate is the probability that an attachment after the first
// shares its content with an earlier one.
const DuplicateRate = 0.4

func (g *Generator) attachmentHdr(i int) (ms int64, dupOf int) {
	r := g.rng(collAttachments, streamHeader, i)
	ms = spanStart + r.int64n(spanEnd-spanStart)
	dupOf = -1
	if i > 0 && r.chance(DuplicateRate) {
		dupOf = r.intn(i)
	}
	return ms, dupOf
}

func (g *Generator) attachmentMS(i int) int64 {
	ms, _ := g.attachmentHdr(i)
	return ms
}

// AttachmentOrigin returns the index of the attachment whose content
// attachment i shares: i itself for an original, a smaller index for a
// duplicate. AttachmentContent(i) equals AttachmentContent(AttachmentOrigin(i)),
// and two attachments have the same content exactly when they have the same
// origin. It panics if i is out of range.
func (g *Generator) AttachmentOrigin(i int) int {
	g.check(collAttachments, i)
	for {
		_, d := g.attachmentHdr(i)
		if d < 0 {
			return i
		}
		i = d
	}
}

// contentKind returns the file kind of original attachment o.
func (g *Generator) contentKind(o int) int {
	r := g.rng(collAttachments, streamContent, o)
	return r.weighted(fileExtWeights[:])
}

// AttachmentContent returns the bytes of attachment i: a fresh slice of
// Config.AttachmentSize bytes on average, media-like (a file signature,
// then incompressible bytes) for images, audio, video and PDFs, and
// English-like text for text files. It panics if i is out of range.
func (g *Generator) AttachmentContent(i int) []byte {
	return g.content(g.AttachmentOrigin(i))
}

var signatures = map[string]string{
	"jpg": "\xff\xd8\xff\xe0\x00\x10JFIF\x00",
	"png": "\x89PNG\r\n\x1a\n",
	"mp3": "ID3\x04\x00\x00",
	"pdf": "%PDF-1.7\n",
	"mp4": "\x00\x00\x00\x20ftypisom",
}

func (g *Generator) content(o int) []byte {
	b := g.newBuilder(collAttachments, streamContent, o)
	kind := fileExts[b.r.weighted(fileExtWeights[:])]
	size := g.cfg.AttachmentSize/2 + b.r.intn(g.cfg.AttachmentSize)
	out := make([]byte, 0, size+256)
	if sig, ok := signatures[kind.ext]; ok {
		out = append(out, sig...)
		for len(out) < size {
			v := b.r.u64()
			for k := 0; k < 8 && len(out) < size; k++ {
				out = append(out, byte(v>>(8*k)))
			}
		}
		return out
	}
	for len(out) < size {
		out = b.appendSentence(out)
		out = append(out, ' ')
	}
	return out[:size]
}

// Attachment returns the metadata of attachment i: {id, type, name,
// mimeType, size, createdAt, hash (sha256 hex of AttachmentContent(i)),
// path, and dimensions, duration or aiAnalysis by type}. It panics if i is
// out of range.
func (g *Generator) Attachment(i int) map[string]any {
	g.check(collAttachments, i)
	ms, _ := g.attachmentHdr(i)
	o := g.AttachmentOrigin(i)
	data := g.content(o)
	sum := sha256.Sum256(data)
	kind := fileExts[g.contentKind(o)]
	b := g.newBuilder(collAttachments, streamBody, i)
	r := &b.r
	id := g.idAt(collAttachments, i, ms)

	if kind.typ == "screenshot" {
		b.buf = append(b.buf[:0], "screenshot-"...)
		b.buf = time.UnixMilli(ms).UTC().AppendFormat(b.buf, "20060102-150405")
	} else {
		b.buf = append(b.buf[:0], slug(b.title(), '-')...)
	}
	b.buf = append(b.buf, '.')
	b.buf = append(b.buf, kind.ext...)
	doc := map[string]any{
		"id":        id,
		"type":      kind.typ,
		"name":      b.str(),
		"mimeType":  kind.mime,
		"size":      float64(len(data)),
		"createdAt": iso(ms),
		"hash":      hex.EncodeToString(sum[:]),
		"path":      "attachments/" + id + ".dat",
	}
	switch kind.typ {
	case "screenshot", "image":
		doc["dimensions"] = map[string]any{"width": float64(1280 * r.between(1, 2)), "height": float64(800 * r.between(1, 2))}
		if r.chance(0.5) {
			doc["aiAnalysis"] = map[string]any{
				"description":     b.sentences(r.between(1, 2)),
				"extractedText":   b.ocr(r.between(5, 20)),
				"detectedObjects": b.fragments(r.between(1, 3)),
				"confidence":      b.conf(0.5),
			}
		}
	case "audio", "video":
		doc["duration"] = float64(r.between(10, 600))
	}
	return doc
}

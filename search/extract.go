package search

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cairnkv/cairn/buckets"
)

// extract builds the flat document indexed for one entity. It never fails:
// a missing field, a field of the wrong type or a date that does not parse
// is skipped. The returned map holds only the fields of mapping.go. size is
// the number of text bytes extracted, used to bound a Bleve batch.
func extract(collection string, rev uint64, body map[string]any) (doc map[string]any, size int) {
	var x extractor
	switch collection {
	case "sessions":
		x.name(body["name"])
		x.text(body["description"])
		if s, ok := body["summary"].(map[string]any); ok {
			x.text(s["narrative"])
			x.texts(s["achievements"])
			x.texts(s["blockers"])
		}
		x.text(body["fullTranscription"])
		for _, sc := range objects(body["screenshots"]) {
			if a, ok := sc["aiAnalysis"].(map[string]any); ok {
				x.text(a["summary"])
				x.text(a["detectedActivity"])
				x.text(a["extractedText"])
			}
		}
		for _, seg := range objects(body["audioSegments"]) {
			x.text(seg["transcription"])
		}
		x.tags(body["tags"])
		x.dates(body, "startTime", "endTime")
	case "notes":
		x.text(body["content"])
		x.text(body["summary"])
		for _, u := range objects(body["updates"]) {
			x.text(u["content"])
		}
		x.tags(body["tags"])
		x.dates(body, "timestamp", "lastUpdated")
	case "tasks":
		x.name(body["title"])
		x.text(body["description"])
		for _, st := range objects(body["subtasks"]) {
			x.text(st["title"])
		}
		x.tags(body["tags"])
		x.dates(body, "createdAt", "dueDate")
	case "topics", "companies", "contacts":
		x.name(body["name"])
		if p, ok := body["profile"].(map[string]any); ok {
			for _, k := range sortedKeys(p) {
				x.text(p[k])
			}
		}
		x.dates(body, "lastUpdated")
	case "attachments":
		x.name(body["name"])
		if a, ok := body["aiAnalysis"].(map[string]any); ok {
			x.text(a["description"])
			x.text(a["extractedText"])
		}
		x.dates(body, "lastUpdated")
	default:
		nameKey := ""
		if _, ok := body["name"].(string); ok {
			nameKey = "name"
		} else if _, ok := body["title"].(string); ok {
			nameKey = "title"
		}
		if nameKey != "" {
			x.name(body[nameKey])
		}
		for _, k := range sortedKeys(body) {
			if k != nameKey && k != "id" {
				x.text(body[k])
			}
		}
		x.tags(body["tags"])
		x.dates(body, "lastUpdated")
	}

	doc = map[string]any{
		fieldCollection: collection,
		fieldRev:        strconv.FormatUint(rev, 10),
	}
	text := make([]string, 0, 1+len(x.body)+len(x.tagVals))
	if x.nameVal != "" {
		doc[fieldName] = x.nameVal
		doc[fieldNameKW] = x.nameVal
		text = append(text, x.nameVal)
	}
	text = append(text, x.body...)
	if len(x.tagVals) > 0 {
		doc[fieldTagsKW] = x.tagVals
		text = append(text, x.tagVals...)
	}
	if len(text) > 0 {
		// One string, not an array: Bleve's highlighter takes fragments of
		// different array elements for overlapping and keeps only one.
		doc[fieldText] = strings.Join(text, "\n")
	}
	for k, t := range x.times {
		doc[k] = t
	}
	return doc, x.size
}

// extractor accumulates the text of one document.
type extractor struct {
	nameVal string
	body    []string
	tagVals []string
	times   map[string]time.Time
	size    int
}

func (x *extractor) name(v any) {
	if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
		x.nameVal = s
		x.size += len(s)
	}
}

func (x *extractor) text(v any) {
	if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
		x.body = append(x.body, s)
		x.size += len(s)
	}
}

func (x *extractor) texts(v any) {
	if a, ok := v.([]any); ok {
		for _, e := range a {
			x.text(e)
		}
	}
	if a, ok := v.([]string); ok {
		for _, e := range a {
			x.text(e)
		}
	}
}

func (x *extractor) tags(v any) {
	add := func(e any) {
		if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
			x.tagVals = append(x.tagVals, s)
			x.size += len(s)
		}
	}
	switch a := v.(type) {
	case []any:
		for _, e := range a {
			add(e)
		}
	case []string:
		for _, e := range a {
			add(e)
		}
	}
}

func (x *extractor) dates(body map[string]any, keys ...string) {
	for _, k := range keys {
		if t, ok := parseDate(body[k]); ok {
			if x.times == nil {
				x.times = make(map[string]time.Time, len(keys))
			}
			x.times[k] = t
		}
	}
}

// objects returns the elements of v that are JSON objects, if v is an array.
func objects(v any) []map[string]any {
	a, ok := v.([]any)
	if !ok {
		if m, ok := v.([]map[string]any); ok {
			return m
		}
		return nil
	}
	out := make([]map[string]any, 0, len(a))
	for _, e := range a {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Bleve stores datetimes as int64 nanoseconds since the epoch.
var (
	minDate = time.Unix(0, math.MinInt64).UTC().AddDate(1, 0, 0)
	maxDate = time.Unix(0, math.MaxInt64).UTC().AddDate(-1, 0, 0)
)

// parseDate reads an instant as every part of Cairn does
// (buckets.ParseInstant), within Bleve's range.
func parseDate(v any) (time.Time, bool) {
	ms, ok := buckets.ParseInstant(v)
	if !ok {
		return time.Time{}, false
	}
	t := time.UnixMilli(ms)
	t = t.UTC()
	if t.Before(minDate) || t.After(maxDate) {
		return time.Time{}, false
	}
	return t, true
}

package peers

import (
	"sort"
	"strings"
)

// searchText extracts what Cairn's search index holds for a document
// (search/extract.go): a name, the body text and the tags.
func searchText(coll string, d map[string]any) (name, body, tags string) {
	var b []string
	add := func(v any) {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			b = append(b, s)
		}
	}
	objs := func(v any) []map[string]any {
		var out []map[string]any
		a, _ := v.([]any)
		for _, e := range a {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	switch coll {
	case "sessions":
		name = str(d, "name")
		add(d["description"])
		if s, ok := d["summary"].(map[string]any); ok {
			add(s["narrative"])
			for _, f := range []string{"achievements", "blockers"} {
				a, _ := s[f].([]any)
				for _, e := range a {
					add(e)
				}
			}
		}
		add(d["fullTranscription"])
		for _, sc := range objs(d["screenshots"]) {
			if a, ok := sc["aiAnalysis"].(map[string]any); ok {
				add(a["summary"])
				add(a["detectedActivity"])
				add(a["extractedText"])
			}
		}
		for _, seg := range objs(d["audioSegments"]) {
			add(seg["transcription"])
		}
	case "notes":
		add(d["content"])
		add(d["summary"])
		for _, u := range objs(d["updates"]) {
			add(u["content"])
		}
	case "tasks":
		name = str(d, "title")
		add(d["description"])
		for _, st := range objs(d["subtasks"]) {
			add(st["title"])
		}
	case "topics", "companies", "contacts":
		name = str(d, "name")
		if p, ok := d["profile"].(map[string]any); ok {
			keys := make([]string, 0, len(p))
			for k := range p {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				add(p[k])
			}
		}
	}
	return name, strings.Join(b, "\n"), strings.Join(tagsOf(d), " ")
}

// searchColls are the collections the peers index for text, like Cairn.
var searchColls = []string{"sessions", "notes", "tasks", "topics", "companies", "contacts"}

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// op is one operation of the child, as it announces it on its intent line
// before running it. A worker's op runs in one kv.Update (or one kv call),
// so it is applied wholly or not at all.
type op struct {
	Worker int    `json:"w"`
	N      int    `json:"n"`
	Kind   string `json:"kind"` // tx, patch, modify, append, attach, detach, backup, compact, gc

	Puts    []putOp    `json:"puts,omitempty"`
	Deletes []ref      `json:"deletes,omitempty"`
	Patches []patchOp  `json:"patches,omitempty"` // RFC 7396 merge patches
	Sets    []patchOp  `json:"sets,omitempty"`    // Modify: top-level fields replaced
	Appends []appendOp `json:"appends,omitempty"`
	Attach  *attachOp  `json:"attach,omitempty"`
}

type ref struct {
	Coll string `json:"c"`
	ID   string `json:"id"`
}

type putOp struct {
	Coll string         `json:"c"`
	Doc  map[string]any `json:"doc"`
}

type patchOp struct {
	Coll  string         `json:"c"`
	ID    string         `json:"id"`
	Patch map[string]any `json:"p"`
}

type appendOp struct {
	Coll  string `json:"c"`
	ID    string `json:"id"`
	Field string `json:"f"`
	Elems []any  `json:"e"`
}

type attachOp struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"createdAt"`
	Content   int    `json:"content"` // index into blobContent
}

// blobContent returns the deterministic content number i: a handful of
// contents shared between attachments so that blobs are deduplicated and
// reference counts go above one.
func blobContent(i int) []byte {
	n := 1 + (i*7919)%40000
	return []byte(strings.Repeat(fmt.Sprintf("content-%d|", i), n/10+1))
}

func contentHash(i int) string {
	s := sha256.Sum256(blobContent(i))
	return hex.EncodeToString(s[:])
}

// state is the acknowledged state of one worker's documents: key
// (collection/id) → document. Absent keys are absent documents.
type state map[string]map[string]any

func key(coll, id string) string { return coll + "/" + id }

func splitKey(k string) (coll, id string) {
	coll, id, _ = strings.Cut(k, "/")
	return coll, id
}

func (s state) clone() state {
	out := make(state, len(s))
	for k, v := range s {
		out[k] = deepCopy(v).(map[string]any)
	}
	return out
}

// apply returns the state after o (s is not changed). It fails when o does
// not make sense against s (the child and the model disagree).
func (s state) apply(o *op) (state, error) {
	out := s.clone()
	for _, p := range o.Puts {
		id, _ := p.Doc["id"].(string)
		out[key(p.Coll, id)] = deepCopy(p.Doc).(map[string]any)
	}
	for _, d := range o.Deletes {
		delete(out, key(d.Coll, d.ID))
	}
	for _, p := range o.Patches {
		cur, ok := out[key(p.Coll, p.ID)]
		if !ok {
			return nil, fmt.Errorf("op %d/%d patches %s/%s, which the model does not hold", o.Worker, o.N, p.Coll, p.ID)
		}
		out[key(p.Coll, p.ID)] = mergePatch(cur, p.Patch).(map[string]any)
	}
	for _, p := range o.Sets {
		cur, ok := out[key(p.Coll, p.ID)]
		if !ok {
			return nil, fmt.Errorf("op %d/%d modifies %s/%s, which the model does not hold", o.Worker, o.N, p.Coll, p.ID)
		}
		for k, v := range p.Patch {
			cur[k] = deepCopy(v)
		}
	}
	for _, a := range o.Appends {
		cur, ok := out[key(a.Coll, a.ID)]
		if !ok {
			return nil, fmt.Errorf("op %d/%d appends to %s/%s, which the model does not hold", o.Worker, o.N, a.Coll, a.ID)
		}
		arr, _ := cur[a.Field].([]any)
		for _, e := range a.Elems {
			arr = append(arr, deepCopy(e))
		}
		cur[a.Field] = arr
	}
	if a := o.Attach; a != nil {
		out[key("attachments", a.ID)] = attachmentDoc(a)
	}
	return out, nil
}

// attachmentDoc is the document AddAttachment stores for a.
func attachmentDoc(a *attachOp) map[string]any {
	return map[string]any{
		"id": a.ID, "name": a.Name, "createdAt": a.CreatedAt,
		"hash": contentHash(a.Content), "size": int64(len(blobContent(a.Content))),
	}
}

// keys returns every key o touches.
func (o *op) keys() []string {
	var out []string
	for _, p := range o.Puts {
		id, _ := p.Doc["id"].(string)
		out = append(out, key(p.Coll, id))
	}
	for _, d := range o.Deletes {
		out = append(out, key(d.Coll, d.ID))
	}
	for _, p := range o.Patches {
		out = append(out, key(p.Coll, p.ID))
	}
	for _, p := range o.Sets {
		out = append(out, key(p.Coll, p.ID))
	}
	for _, a := range o.Appends {
		out = append(out, key(a.Coll, a.ID))
	}
	if o.Attach != nil {
		out = append(out, key("attachments", o.Attach.ID))
	}
	return out
}

// mergePatch is RFC 7396 written again on purpose: the model is an oracle
// for the store, so it must not share txn.MergePatch, whose bug would then
// hide on both sides.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return deepCopy(patch)
	}
	t, _ := target.(map[string]any)
	out := map[string]any{}
	for k, v := range t {
		out[k] = v
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

// canon is a document's canonical JSON (sorted keys, numbers as written),
// "<absent>" for nil.
func canon(v map[string]any) string {
	if v == nil {
		return "<absent>"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "<unmarshalable: " + err.Error() + ">"
	}
	var x any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	_ = d.Decode(&x)
	out, _ := json.Marshal(x)
	return string(out)
}

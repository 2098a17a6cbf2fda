package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// The child opens the store and runs workers until it is killed. Each
// worker owns its own ids (so the parent's model is exact per worker) and
// runs one operation at a time: it prints an intent line ("I" and the op
// as JSON) before the operation and an acknowledgement ("A w n") after it
// returned nil. One maintenance worker takes backups, compacts and
// collects garbage. Any unexpected error is printed ("E w n message") and
// ends the child with exit status 1.

const (
	childWorkers = 3
	maintWorker  = childWorkers // the maintenance worker's number
)

// entity collections the workers put documents in, and their pool sizes.
var docColls = []string{"tasks", "notes", "topics", "companies", "contacts", "sessions"}

const (
	poolDocs        = 6 // ids per collection and worker
	poolAttachments = 6
	blobContents    = 8 // distinct attachment contents
)

func poolID(w int, coll string, k int) string { return fmt.Sprintf("w%d-%s-%d", w, coll, k) }

// childOptions are the options both the child and the parent open with.
func childOptions() *kv.Options {
	return &kv.Options{
		Timeout:      30 * time.Second,
		BackupPolicy: kv.BackupPolicy{KeepLast: backupsKept, Daily: -1, Weekly: -1},
	}
}

const backupsKept = 5

type emitter struct {
	mu sync.Mutex
}

// line writes one whole line to stdout with a single write call, so the
// parent never reads half a line that the child finished.
func (e *emitter) line(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = fmt.Fprintf(os.Stdout, format+"\n", args...)
}

func (e *emitter) intent(o *op) {
	b, err := json.Marshal(o)
	if err != nil {
		e.fail(o.Worker, o.N, err)
	}
	e.line("I %s", b)
}

func (e *emitter) fail(w, n int, err error) {
	e.line("E %d %d %s", w, n, strings.ReplaceAll(err.Error(), "\n", " | "))
	os.Exit(1)
}

// runChild is the child process's main: it never returns normally.
func runChild(dir string, seed uint64, iter int) {
	em := &emitter{}
	db, err := kv.Open(dir, childOptions())
	if err != nil {
		em.fail(-1, 0, fmt.Errorf("open: %w", err))
	}
	em.line("O") // opened
	var wg sync.WaitGroup
	for w := 0; w < childWorkers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			cw := newChildWorker(db, em, w, rand.New(rand.NewPCG(seed, uint64(iter)*1000+uint64(w))), iter)
			cw.run()
		}(w)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		maintain(db, em, rand.New(rand.NewPCG(seed, uint64(iter)*1000+999)))
	}()
	wg.Wait()
	os.Exit(0)
}

type childWorker struct {
	db    *kv.DB
	em    *emitter
	w     int
	rng   *rand.Rand
	iter  int
	exist map[string]bool // key → present (the child's view of its own ids)
}

func newChildWorker(db *kv.DB, em *emitter, w int, rng *rand.Rand, iter int) *childWorker {
	cw := &childWorker{db: db, em: em, w: w, rng: rng, iter: iter, exist: map[string]bool{}}
	for _, coll := range append(append([]string{}, docColls...), "attachments") {
		n := poolDocs
		if coll == "attachments" {
			n = poolAttachments
		}
		for k := 0; k < n; k++ {
			id := poolID(w, coll, k)
			_, _, err := db.Get(context.Background(), coll, id)
			switch {
			case err == nil:
				cw.exist[key(coll, id)] = true
			case errors.Is(err, kv.ErrNotFound):
			default:
				em.fail(w, -1, fmt.Errorf("read %s/%s: %w", coll, id, err))
			}
		}
	}
	return cw
}

func (cw *childWorker) existing(coll string) []string {
	var out []string
	n := poolDocs
	if coll == "attachments" {
		n = poolAttachments
	}
	for k := 0; k < n; k++ {
		id := poolID(cw.w, coll, k)
		if cw.exist[key(coll, id)] {
			out = append(out, id)
		}
	}
	return out
}

func (cw *childWorker) pick(ids []string) string { return ids[cw.rng.IntN(len(ids))] }

// pad returns filler text: mostly short, sometimes past a bbolt page,
// rarely large enough for overflow pages.
func (cw *childWorker) pad() string {
	n := cw.rng.IntN(300)
	switch r := cw.rng.IntN(20); {
	case r == 0:
		n = 20000 + cw.rng.IntN(20000)
	case r < 4:
		n = 2000 + cw.rng.IntN(4000)
	}
	var b strings.Builder
	words := []string{"meeting", "design", "review", "alpha", "budget", "roadmap", "call", "notes", "lunch", "deploy"}
	for b.Len() < n {
		b.WriteString(words[cw.rng.IntN(len(words))])
		b.WriteByte(' ')
	}
	return b.String()
}

func (cw *childWorker) newDoc(coll, id string, tag string) map[string]any {
	d := map[string]any{"id": id, "op": tag, "pad": cw.pad()}
	switch coll {
	case "tasks":
		d["title"] = "task " + tag
		d["status"] = []string{"todo", "done", "in-progress"}[cw.rng.IntN(3)]
		d["tags"] = []any{fmt.Sprint("t", cw.rng.IntN(5))}
	case "notes":
		d["content"] = "note " + tag + " " + cw.pad()
		d["tags"] = []any{fmt.Sprint("t", cw.rng.IntN(5))}
	case "sessions":
		d["name"] = "session " + tag
		d["status"] = "active"
		d["startTime"] = fmt.Sprintf("2025-01-%02dT10:00:00Z", 1+cw.rng.IntN(28))
		d["tags"] = []any{fmt.Sprint("t", cw.rng.IntN(5))}
	default:
		d["name"] = coll + " " + tag
	}
	return d
}

func (cw *childWorker) next(n int) *op {
	o := &op{Worker: cw.w, N: n}
	tag := fmt.Sprintf("%d-%d-%d", cw.iter, cw.w, n)
	sessions := cw.existing("sessions")
	r := cw.rng.IntN(100)
	if len(sessions) == 0 && r >= 35 && r < 70 {
		r = 0 // nothing to enrich yet: a transaction creates sessions
	}
	switch {
	case r < 35: // multi-entity transaction
		o.Kind = "tx"
		used := map[string]bool{}
		for i := 0; i < 1+cw.rng.IntN(4); i++ {
			coll := docColls[cw.rng.IntN(len(docColls))]
			id := poolID(cw.w, coll, cw.rng.IntN(poolDocs))
			if used[key(coll, id)] {
				continue
			}
			used[key(coll, id)] = true
			o.Puts = append(o.Puts, putOp{Coll: coll, Doc: cw.newDoc(coll, id, tag)})
		}
		if cw.rng.IntN(3) == 0 {
			coll := docColls[cw.rng.IntN(len(docColls)-1)] // not sessions: patches target those
			if ids := cw.existing(coll); len(ids) > 0 {
				id := cw.pick(ids)
				if !used[key(coll, id)] {
					o.Deletes = append(o.Deletes, ref{Coll: coll, ID: id})
				}
			}
		}
		if len(sessions) > 0 && cw.rng.IntN(3) == 0 {
			id := cw.pick(sessions)
			if !used[key("sessions", id)] {
				o.Patches = append(o.Patches, patchOp{Coll: "sessions", ID: id, Patch: map[string]any{"name": "renamed " + tag, "lastTx": tag}})
			}
		}
	case r < 55: // an enrichment (or the user) patches a session
		o.Kind = "patch"
		id := cw.pick(sessions)
		p := map[string]any{
			"enrichmentStatus": map[string]any{"status": "in-progress", "progress": int64(cw.rng.IntN(100)), "stage": tag},
			"summary":          map[string]any{"narrative": "summary " + tag + " " + cw.pad()},
		}
		if cw.rng.IntN(3) == 0 {
			p = map[string]any{"name": "user name " + tag, "tags": []any{"user", tag}, "description": nil}
		}
		if cw.rng.IntN(4) == 0 {
			p["description"] = "described " + tag
		}
		o.Patches = []patchOp{{Coll: "sessions", ID: id, Patch: p}}
	case r < 65: // an enrichment completes with a read-modify-write
		o.Kind = "modify"
		id := cw.pick(sessions)
		o.Sets = []patchOp{{Coll: "sessions", ID: id, Patch: map[string]any{
			"enrichmentStatus": map[string]any{"status": "completed", "progress": int64(100), "stage": tag},
			"audioInsights":    map[string]any{"mood": tag},
		}}}
	case r < 70: // screenshots arrive
		o.Kind = "append"
		id := cw.pick(sessions)
		var elems []any
		for i := 0; i < 1+cw.rng.IntN(3); i++ {
			elems = append(elems, map[string]any{"id": fmt.Sprintf("shot-%s-%d", tag, i), "timestamp": "2025-01-01T10:00:00Z", "aiAnalysis": map[string]any{"text": cw.pad()}})
		}
		o.Appends = []appendOp{{Coll: "sessions", ID: id, Field: "screenshots", Elems: elems}}
	case r < 88: // an attachment is added (or replaced)
		o.Kind = "attach"
		o.Attach = &attachOp{
			ID:        poolID(cw.w, "attachments", cw.rng.IntN(poolAttachments)),
			Name:      "file " + tag,
			CreatedAt: "2025-01-01T00:00:00.000Z",
			Content:   cw.rng.IntN(blobContents),
		}
	default: // an attachment is deleted
		o.Kind = "detach"
		if ids := cw.existing("attachments"); len(ids) > 0 {
			o.Deletes = []ref{{Coll: "attachments", ID: cw.pick(ids)}}
		}
	}
	return o
}

func (cw *childWorker) run() {
	ctx := context.Background()
	for n := 0; ; n++ {
		o := cw.next(n)
		cw.em.intent(o)
		var err error
		switch o.Kind {
		case "attach":
			a := o.Attach
			_, err = cw.db.AddAttachment(ctx, bytes.NewReader(blobContent(a.Content)), kv.Document{"id": a.ID, "name": a.Name, "createdAt": a.CreatedAt})
		default:
			err = cw.db.Update(ctx, func(tx *kv.Tx) error { return runOp(tx, o) })
		}
		if err != nil {
			cw.em.fail(cw.w, n, err)
		}
		for _, k := range o.keys() {
			cw.exist[k] = true
		}
		for _, d := range o.Deletes {
			cw.exist[key(d.Coll, d.ID)] = false
		}
		cw.em.line("A %d %d", cw.w, n)
	}
}

// runOp applies o's document changes in tx, in the model's order: puts,
// deletes, patches, modifications, appends.
func runOp(tx *kv.Tx, o *op) error {
	for _, p := range o.Puts {
		if _, err := tx.Put(p.Coll, p.Doc); err != nil {
			return err
		}
	}
	for _, d := range o.Deletes {
		if _, err := tx.Delete(d.Coll, d.ID); err != nil {
			return err
		}
	}
	for _, p := range o.Patches {
		if _, err := tx.Patch(p.Coll, p.ID, p.Patch); err != nil {
			return err
		}
	}
	for _, s := range o.Sets {
		_, err := tx.Modify(s.Coll, s.ID, func(doc kv.Document) error {
			for k, v := range s.Patch {
				doc[k] = deepCopy(v)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, a := range o.Appends {
		if _, err := tx.Append(a.Coll, a.ID, a.Field, a.Elems...); err != nil {
			return err
		}
	}
	return nil
}

// maintain takes backups, compacts and collects garbage at random
// moments, announcing each like a worker's op.
func maintain(db *kv.DB, em *emitter, rng *rand.Rand) {
	ctx := context.Background()
	for n := 0; ; n++ {
		time.Sleep(time.Duration(20+rng.IntN(150)) * time.Millisecond)
		o := &op{Worker: maintWorker, N: n}
		switch r := rng.IntN(100); {
		case r < 60:
			o.Kind = "backup"
		case r < 85:
			o.Kind = "compact"
		default:
			o.Kind = "gc"
		}
		em.intent(o)
		extra := ""
		switch o.Kind {
		case "backup":
			m, err := db.Backup(ctx, kv.ReasonManual)
			if err != nil {
				em.fail(o.Worker, n, err)
			}
			extra = m.Name
		case "compact":
			res, err := db.Compact(ctx)
			if err != nil {
				em.fail(o.Worker, n, err)
			}
			extra = res.Backup
		case "gc":
			if _, err := db.GC(ctx, false); err != nil {
				em.fail(o.Worker, n, err)
			}
		}
		em.line("A %d %d %s", o.Worker, n, extra)
	}
}

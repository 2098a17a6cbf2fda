package peers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/cairnkv/cairn/internal/gen"
)

// dataVersion changes when the way a peer stores the dataset changes, so
// an old cache is not reused.
const dataVersion = 1

// ChildCommand is the hidden first argument that makes peerbench a child
// of a fresh-process measurement.
const ChildCommand = "__peer-child"

// errNA marks a measurement a peer cannot make.
type errNA string

func (e errNA) Error() string { return string(e) }

// store is one peer.
type store interface {
	Name() string
	Note() string
	// Build writes the dataset into the empty directory dir.
	Build(ctx context.Context, g *gen.Generator, dir string) error
	// Open opens the store in dir; forList loads only what listing needs.
	Open(dir string, forList bool) error
	Close() error
	// List reads every session summary; Newest the n newest sessions'
	// headers.
	List() (int, error)
	Newest(n int) (int, error)
	// The workload's queries return the ids found, the documents decoded.
	Complex(w Workload) ([]string, error)
	Month(w Workload) ([]string, error)
	Tag(w Workload) ([]string, error)
	// Search returns the number of hits of the top 20, or an errNA.
	Search(text string) (int, error)
	// Patch applies a merge patch to a session, durably.
	Patch(id string, patch map[string]any) error
	// NewWriter opens a store for the commit measurement in the empty
	// directory dir, starting from the notes of the store built in src
	// when the peer's commits depend on what is stored.
	NewWriter(dir, src string) (writer, error)
}

type writer interface {
	Put(id string, doc map[string]any) error
	Close() error
}

func newStore(name string) (store, error) {
	switch name {
	case "sqlite":
		return &sqliteStore{}, nil
	case "bolthold":
		return &boltholdStore{}, nil
	case "jsonfiles":
		return &jsonStore{}, nil
	}
	return nil, fmt.Errorf("peers: unknown peer %q", name)
}

// Names are the peers, in the harness's column order.
var Names = []string{"sqlite", "bolthold", "jsonfiles"}

// Config is one run of the peers.
type Config struct {
	Workload Workload
	CacheDir string // built peers, reused when the dataset matches
	WorkDir  string // scratch stores and working copies, removed after
	Only     string // regexp of measurement names, as in the harness
	Peers    []string
	Exe      string // this binary, re-executed for fresh-process measurements
	Stderr   io.Writer
}

type run struct {
	cfg  Config
	only *regexp.Regexp
	g    *gen.Generator
}

// Run measures every peer of cfg on the workload.
func Run(ctx context.Context, cfg Config) (*Output, error) {
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if len(cfg.Peers) == 0 {
		cfg.Peers = Names
	}
	if cfg.Workload.Runs < 1 {
		cfg.Workload.Runs = 1
	}
	if cfg.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cfg.Exe = exe
	}
	r := &run{cfg: cfg, g: gen.New(gen.Config{Sessions: cfg.Workload.Sessions, Seed: cfg.Workload.Seed})}
	if cfg.Only != "" {
		var err error
		if r.only, err = regexp.Compile(cfg.Only); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o700); err != nil {
		return nil, err
	}
	defer os.RemoveAll(cfg.WorkDir)
	out := &Output{}
	for _, name := range cfg.Peers {
		s, err := newStore(name)
		if err != nil {
			return nil, err
		}
		po := PeerOutput{Name: name, Note: s.Note(), Results: map[string]Result{}}
		if err := r.peer(ctx, s, &po); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			po.Note = "failed: " + err.Error()
			fmt.Fprintf(cfg.Stderr, "peers: %s: %v\n", name, err)
		}
		out.Peers = append(out.Peers, po)
	}
	return out, nil
}

func (r *run) want(names ...string) bool {
	if r.only == nil {
		return true
	}
	for _, n := range names {
		if r.only.MatchString(n) {
			return true
		}
	}
	return false
}

func (r *run) minDur() time.Duration {
	if r.cfg.Workload.Sessions < 1000 {
		return 20 * time.Millisecond
	}
	return 300 * time.Millisecond
}

// marker is what a built peer's complete.json holds.
type marker struct {
	JSONBytes int64   `json:"json_bytes"`
	BuildSecs float64 `json:"build_secs"`
}

// ensure builds the peer into the cache unless it is there.
func (r *run) ensure(ctx context.Context, s store) (string, marker, error) {
	w := r.cfg.Workload
	name := s.Name()
	if v, ok := s.(interface{ SchemaVersion() int }); ok {
		name += fmt.Sprintf("-s%d", v.SchemaVersion()) // the store's own layout version
	}
	dir := filepath.Join(r.cfg.CacheDir, fmt.Sprintf("%s-%d-%d-v%d", name, w.Sessions, w.Seed, dataVersion))
	var m marker
	if b, err := os.ReadFile(filepath.Join(dir, "complete.json")); err == nil && json.Unmarshal(b, &m) == nil {
		return filepath.Join(dir, "data"), m, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", m, err
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return "", m, err
	}
	fmt.Fprintf(r.cfg.Stderr, "peers: building %s (%d sessions) ...\n", s.Name(), w.Sessions)
	t := time.Now()
	if err := s.Build(ctx, r.g, data); err != nil {
		return "", m, fmt.Errorf("building: %w", err)
	}
	m.BuildSecs = time.Since(t).Seconds()
	for _, coll := range gen.Collections {
		if coll == "attachments" {
			continue
		}
		if err := r.g.Each(coll, func(d map[string]any) error { m.JSONBytes += jsonSize(d); return nil }); err != nil {
			return "", m, err
		}
	}
	fmt.Fprintf(r.cfg.Stderr, "peers: %s built in %.1fs\n", s.Name(), m.BuildSecs)
	b, _ := json.Marshal(m)
	return data, m, os.WriteFile(filepath.Join(dir, "complete.json"), b, 0o600)
}

// peer runs every measurement on one peer.
func (r *run) peer(ctx context.Context, s store, po *PeerOutput) error {
	dir, m, err := r.ensure(ctx, s)
	if err != nil {
		return err
	}
	runs := r.cfg.Workload.Runs
	set := func(name string, res Result) {
		if r.want(name) {
			po.Results[name] = res
		}
	}
	t := time.Now()
	// Startup in fresh processes.
	if r.want("startup/open+list/warm", "startup/list/warm", "memory/rss", "startup/open+list/cold") {
		if _, err := r.child(ctx, s.Name(), "openlist", dir); err != nil { // warm-up
			return err
		}
		var warm, list, hwm, cold []float64
		for range runs {
			c, err := r.child(ctx, s.Name(), "openlist", dir)
			if err != nil {
				return err
			}
			warm, list, hwm = append(warm, c.TotalMs), append(list, c.WorkMs), append(hwm, float64(c.HWMBytes)/(1<<20))
		}
		for range runs {
			if err := evict(dir); err != nil {
				return err
			}
			c, err := r.child(ctx, s.Name(), "openlist", dir)
			if err != nil {
				return err
			}
			cold = append(cold, c.TotalMs)
		}
		set("startup/open+list/warm", Result{Runs: warm})
		note := ""
		if s.Name() == "jsonfiles" {
			note = "after sessions.json is parsed (in open)"
		}
		set("startup/list/warm", Result{Runs: list, Note: note})
		set("memory/rss", Result{Runs: hwm})
		set("startup/open+list/cold", Result{Runs: cold})
	}
	if r.want("startup/newest50/warm") {
		var nw []float64
		for range runs {
			c, err := r.child(ctx, s.Name(), "newest", dir)
			if err != nil {
				return err
			}
			nw = append(nw, c.TotalMs)
		}
		set("startup/newest50/warm", Result{Runs: nw})
	}
	fmt.Fprintf(r.cfg.Stderr, "peers: %s startup done in %v\n", s.Name(), time.Since(t).Round(time.Millisecond))
	if r.want("size/file-vs-json") && m.JSONBytes > 0 {
		set("size/file-vs-json", Result{Runs: []float64{100 * (1 - float64(dirBytes(dir))/float64(m.JSONBytes))}})
	}

	// Queries and search in this process.
	t = time.Now()
	if r.want("query/complex", "query/month", "query/tag", "search/1word", "search/2words") {
		if err := s.Open(dir, false); err != nil {
			return err
		}
		w := r.cfg.Workload
		qs := []struct {
			name string
			fn   func(Workload) ([]string, error)
		}{{"query/complex", s.Complex}, {"query/month", s.Month}, {"query/tag", s.Tag}}
		for _, q := range qs {
			if !r.want(q.name) {
				continue
			}
			var ids []string
			res, err := perOp(runs, r.minDur(), func() error { var err error; ids, err = q.fn(w); return err })
			if err != nil {
				_ = s.Close()
				return fmt.Errorf("%s: %w", q.name, err)
			}
			set(q.name, Result{Runs: res, Note: fmt.Sprintf("%d docs", len(ids)), IDs: idsHash(ids)})
		}
		for _, q := range []struct{ name, text string }{{"search/1word", w.Word1}, {"search/2words", w.Words2}} {
			if !r.want(q.name) {
				continue
			}
			var n int
			res, err := perOp(runs, r.minDur(), func() error { var err error; n, err = s.Search(q.text); return err })
			var na errNA
			if errors.As(err, &na) {
				set(q.name, Result{NA: string(na)})
				continue
			}
			if err != nil {
				_ = s.Close()
				return fmt.Errorf("%s: %w", q.name, err)
			}
			set(q.name, Result{Runs: res, Note: fmt.Sprintf("%d hits", n)})
		}
		if err := s.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(r.cfg.Stderr, "peers: %s queries done in %v\n", s.Name(), time.Since(t).Round(time.Millisecond))

	// Patch on a working copy.
	t = time.Now()
	if r.want("write/patch-enrichment") {
		cp := filepath.Join(r.cfg.WorkDir, s.Name()+"-patch")
		if err := copyDir(dir, cp); err != nil {
			return err
		}
		if err := s.Open(cp, false); err != nil {
			return err
		}
		n := r.g.Count("sessions")
		i := 0
		res, err := perOp(runs, r.minDur(), func() error {
			id := r.g.ID("sessions", (i*7)%n)
			i++
			return s.Patch(id, enrichmentPatch(i))
		})
		if cerr := s.Close(); err == nil {
			err = cerr
		}
		if rerr := os.RemoveAll(cp); err == nil {
			err = rerr
		}
		if err != nil {
			return fmt.Errorf("patch: %w", err)
		}
		set("write/patch-enrichment", Result{Runs: res})
	}
	fmt.Fprintf(r.cfg.Stderr, "peers: %s patch done in %v\n", s.Name(), time.Since(t).Round(time.Millisecond))

	t = time.Now()
	if r.want("write/commit/1w", "write/commit/8w") {
		for _, writers := range []int{1, 8} {
			name := fmt.Sprintf("write/commit/%dw", writers)
			var res, p99 []float64
			for k := range runs {
				ops, p, err := r.commits(s, dir, writers, k)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				res, p99 = append(res, ops), append(p99, p)
			}
			set(name, Result{Runs: res, Note: fmt.Sprintf("p99 %.1f ms", median(p99))})
		}
	}
	fmt.Fprintf(r.cfg.Stderr, "peers: %s commits done in %v\n", s.Name(), time.Since(t).Round(time.Millisecond))
	return nil
}

// commits runs writers goroutines putting notes durably for a while and
// returns commits per second and the p99 latency in ms.
func (r *run) commits(s store, src string, writers, k int) (float64, float64, error) {
	dur := 1500 * time.Millisecond
	if r.cfg.Workload.Sessions < 1000 {
		dur = 100 * time.Millisecond
	}
	dir := filepath.Join(r.cfg.WorkDir, fmt.Sprintf("%s-commits-%d-%d", s.Name(), writers, k))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	wr, err := s.NewWriter(dir, src)
	if err != nil {
		return 0, 0, err
	}
	notes := r.g.Count("notes")
	var mu sync.Mutex
	var lat []float64
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []float64
			for i := 0; time.Since(start) < dur; i++ {
				doc := r.g.Note((w*7919 + i) % notes)
				id := fmt.Sprintf("w%d-%07d", w, i)
				doc["id"] = id
				t := time.Now()
				if err := wr.Put(id, doc); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				mine = append(mine, msOf(time.Since(t)))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if err := wr.Close(); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr != nil {
		return 0, 0, firstErr
	}
	return float64(len(lat)) / el.Seconds(), percentile(lat, 99), nil
}

// ChildResult is what a peer child prints.
type ChildResult struct {
	OpenMs   float64 `json:"open_ms"`
	WorkMs   float64 `json:"work_ms"`
	TotalMs  float64 `json:"total_ms"`
	Count    int     `json:"count"`
	HWMBytes int64   `json:"vmhwm_bytes"`
	RSSBytes int64   `json:"vmrss_bytes"`
}

func (r *run) child(ctx context.Context, peer, mode, dir string) (ChildResult, error) {
	var c ChildResult
	cmd := exec.CommandContext(ctx, r.cfg.Exe, ChildCommand, peer, mode, dir)
	cmd.Stderr = r.cfg.Stderr
	out, err := cmd.Output()
	if err != nil {
		return c, fmt.Errorf("child %s %s: %w", peer, mode, err)
	}
	if err := json.Unmarshal(out, &c); err != nil {
		return c, fmt.Errorf("child %s %s: %w", peer, mode, err)
	}
	if c.Count == 0 {
		return c, fmt.Errorf("child %s %s found nothing", peer, mode)
	}
	return c, nil
}

// RunChild is the fresh-process side: args are peer, mode (openlist or
// newest) and the store directory.
func RunChild(args []string, stdout io.Writer) error {
	if len(args) != 3 {
		return fmt.Errorf("peers child: want peer mode dir, got %q", args)
	}
	s, err := newStore(args[0])
	if err != nil {
		return err
	}
	var c ChildResult
	start := time.Now()
	if err := s.Open(args[2], args[1] == "openlist"); err != nil {
		return err
	}
	c.OpenMs = msOf(time.Since(start))
	t := time.Now()
	switch args[1] {
	case "openlist":
		c.Count, err = s.List()
	case "newest":
		c.Count, err = s.Newest(50)
	default:
		err = fmt.Errorf("peers child: unknown mode %q", args[1])
	}
	c.WorkMs = msOf(time.Since(t))
	c.TotalMs = msOf(time.Since(start))
	c.HWMBytes, c.RSSBytes = memStatus()
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(c)
}

func dirBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// copyDir copies the regular files of src into dst.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o700)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o600)
	})
}

// writeFileDurable replaces path with data: temporary file in the same
// directory, write, fsync, close, rename, fsync the directory (what the old
// app's save should have done).
func writeFileDurable(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

package legacy

import (
	"os"
	"sync"
)

// prefetched is a file read (and, for collection files, decoded) ahead of
// use by prefetch.
type prefetched struct {
	b      []byte
	err    error // read error
	env    *Envelope
	envErr error
	decode bool
}

// prefetch reads the files Scan will certainly read (main, tmp and staged
// collection files, per-entity files and their checksums) with a few
// goroutines, so a slow disk's latency overlaps. Results are consumed once
// by readFile/readEnvelope in the same deterministic order as without it;
// backups are never prefetched.
func (s *scanner) prefetch() error {
	type job struct {
		rel    string
		decode bool
	}
	var jobs []job
	for _, kf := range s.keys {
		if kf.main != "" {
			jobs = append(jobs, job{kf.main, true})
		}
		if kf.tmp != "" {
			jobs = append(jobs, job{kf.tmp, true})
		}
		for _, st := range kf.staged {
			jobs = append(jobs, job{st.path, true})
		}
	}
	for _, pe := range s.perEntity {
		jobs = append(jobs, job{pe.rel, false})
		if cs, ok := s.checksums[pe.rel]; ok {
			jobs = append(jobs, job{cs, false})
		}
	}
	if len(jobs) < 16 || s.opts.Workers <= 1 {
		return nil
	}
	results := make([]prefetched, len(jobs))
	workers := s.opts.Workers
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := &results[i]
				r.decode = jobs[i].decode
				r.b, r.err = os.ReadFile(s.abs(jobs[i].rel))
				if r.err == nil && r.decode {
					r.env, r.envErr = DecodeEnvelope(r.b)
					if r.envErr == nil {
						r.b = nil // keep raw bytes only for undecodable files
					}
				}
			}
		}()
	}
	var err error
	for i := range jobs {
		if err = s.ctx.Err(); err != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err != nil {
		return err
	}
	s.cache = make(map[string]*prefetched, len(jobs))
	for i, j := range jobs {
		s.cache[j.rel] = &results[i]
	}
	return nil
}

// take returns and forgets a prefetched result.
func (s *scanner) take(rel string) *prefetched {
	p := s.cache[rel]
	if p != nil {
		delete(s.cache, rel)
	}
	return p
}

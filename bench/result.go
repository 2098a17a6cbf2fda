package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Target is one goal a measurement is judged against.
type Target struct {
	Source string  `json:"source"` // "plan" (the old plan) or "#3" (an issue)
	Op     string  `json:"op"`     // "<" or ">="
	Value  float64 `json:"value"`
	// Of names the result whose median the value multiplies ("" for an
	// absolute target), as in ">= 4x write/commit/1w".
	Of string `json:"of,omitempty"`
	// Peer, if set, makes the target a ratio to that peer's median in the
	// same run: how many times better Cairn is (">= 3x sqlite").
	Peer string `json:"peer,omitempty"`
}

func (t Target) String() string {
	v := trimFloat(t.Value)
	if t.Peer != "" {
		return fmt.Sprintf("%s%sx %s", t.Op, v, t.Peer)
	}
	if t.Of != "" {
		return fmt.Sprintf("%s%sx %s", t.Op, v, t.Of)
	}
	return t.Op + v
}

// Result is one measurement: its runs, their median and spread, its targets
// and what the peers measured on the same workload.
type Result struct {
	Name    string    `json:"name"`  // stable, matched by --only
	Title   string    `json:"title"` // readable
	Unit    string    `json:"unit"`  // ms, MB, %, x, ops/s, MB/s, s
	Runs    []float64 `json:"runs"`
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	Targets []Target  `json:"targets,omitempty"`
	Verdict []string  `json:"verdict,omitempty"` // per target: "plan pass", "#3 FAIL"
	Pass    *bool     `json:"pass,omitempty"`    // all targets met (nil: no target)
	Note    string    `json:"note,omitempty"`
	Error   string    `json:"error,omitempty"` // the measurement failed
	// HigherBetter says which way is good (throughputs, savings, ratios).
	HigherBetter bool `json:"higher_better"`
	// IDs is a hash of the ids a query returned, in order, compared with
	// the peers' answers.
	IDs   string                `json:"ids,omitempty"`
	Peers map[string]PeerResult `json:"peers,omitempty"`
}

// PeerResult is a peer's figure for one measurement, or why it has none.
type PeerResult struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Runs   []float64 `json:"runs,omitempty"`
	NA     string    `json:"na,omitempty"` // the peer cannot do it, and why
	Note   string    `json:"note,omitempty"`
	IDs    string    `json:"ids,omitempty"` // hash of a query's answer
}

// idsHash identifies a query's answer: the ids in order.
func idsHash(ids []string) string {
	h := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	return hex.EncodeToString(h[:6])
}

// summarize fills Median, Min and Max from Runs.
func (r *Result) summarize() {
	r.Median, r.Min, r.Max = stats(r.Runs)
}

// stats returns the median, minimum and maximum of xs (NaN for none).
func stats(xs []float64) (med, lo, hi float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med = s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return med, s[0], s[n-1]
}

// percentile returns the p-th percentile (0..100) of xs, nearest rank.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// judge sets Verdict and Pass from Targets; relative targets look up the
// median of the result they name in byName.
func (r *Result) judge(byName map[string]*Result) {
	r.Verdict, r.Pass = nil, nil
	if len(r.Targets) == 0 || r.Error != "" || len(r.Runs) == 0 {
		return
	}
	all, judged := true, false
	for _, t := range r.Targets {
		want, got := t.Value, r.Median
		if t.Peer != "" {
			p, ok := r.Peers[t.Peer]
			if !ok || p.NA != "" || p.Median <= 0 || r.Median <= 0 {
				r.Verdict = append(r.Verdict, t.Source+" n/a")
				continue
			}
			got = p.Median / r.Median
			if r.HigherBetter {
				got = r.Median / p.Median
			}
		}
		if t.Of != "" {
			o := byName[t.Of]
			if o == nil || len(o.Runs) == 0 {
				r.Verdict = append(r.Verdict, t.Source+" n/a")
				continue
			}
			want *= o.Median
		}
		judged = true
		ok := got < want
		if t.Op == ">=" {
			ok = got >= want
		}
		word := "pass"
		if !ok {
			word = "FAIL"
			all = false
		}
		r.Verdict = append(r.Verdict, t.Source+" "+word)
	}
	if judged {
		r.Pass = &all
	}
}

// targetText is the target column of the table.
func (r *Result) targetText() string {
	var parts []string
	for _, t := range r.Targets {
		parts = append(parts, fmt.Sprintf("%s %s", t.String(), t.Source))
	}
	return strings.Join(parts, "; ")
}

// trimFloat formats v with at most 3 significant decimals, no trailing zeros.
func trimFloat(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	a := math.Abs(v)
	var s string
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		s = fmt.Sprintf("%.0f", v)
	case a >= 10:
		s = fmt.Sprintf("%.1f", v)
	case a >= 1:
		s = fmt.Sprintf("%.2f", v)
	case a >= 0.01:
		s = fmt.Sprintf("%.3f", v)
	default:
		s = fmt.Sprintf("%.4f", v)
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

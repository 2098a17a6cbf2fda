package main

import (
	"time"

	"github.com/cairnkv/cairn/internal/gen"
	"github.com/cairnkv/cairn/kv"
)

// Workload is the query and search parameters shared with the peers, so
// every store answers the same questions.
type Workload struct {
	Sessions int   `json:"sessions"`
	Seed     int64 `json:"seed"`
	Runs     int   `json:"runs"`
	// The complex query: status = Status AND tags = Tag AND startTime >=
	// Since, sorted by startTime descending, Limit after Offset.
	Status string `json:"status"`
	Tag    string `json:"tag"`
	Since  string `json:"since"`
	Offset int    `json:"offset"`
	Limit  int    `json:"limit"`
	// The one-month range: MonthFrom <= startTime < MonthTo, by startTime.
	MonthFrom string `json:"month_from"`
	MonthTo   string `json:"month_to"`
	// The tag lookup: every session tagged LookupTag, in id order.
	LookupTag string `json:"lookup_tag"`
	// Full-text searches, top 20.
	Word1  string `json:"word1"`
	Words2 string `json:"words2"`
}

func newWorkload(cfg Config) Workload {
	_, end := gen.TimeSpan()
	iso := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	return Workload{
		Sessions: cfg.Sessions, Seed: cfg.Seed, Runs: cfg.Runs,
		Status: "completed", Tag: "planning", Since: iso(end.AddDate(0, -6, 0)), Offset: 20, Limit: 20,
		MonthFrom: iso(end.AddDate(0, -7, 0)), MonthTo: iso(end.AddDate(0, -6, 0)),
		LookupTag: "roadmap",
		Word1:     "budget", Words2: "budget meeting",
	}
}

// complexQuery, monthQuery and tagQuery are the workload's queries in kv.
func (w Workload) complexQuery() kv.Query {
	return kv.Query{Collection: "sessions", Filters: []kv.Filter{
		{Field: "status", Op: "=", Value: w.Status},
		{Field: "tags", Op: "=", Value: w.Tag},
		{Field: "startTime", Op: ">=", Value: w.Since},
	}, Sort: "startTime", Desc: true, Offset: w.Offset, Limit: w.Limit}
}

func (w Workload) monthQuery() kv.Query {
	return kv.Query{Collection: "sessions", Filters: []kv.Filter{
		{Field: "startTime", Op: ">=", Value: w.MonthFrom},
		{Field: "startTime", Op: "<", Value: w.MonthTo},
	}, Sort: "startTime"}
}

func (w Workload) tagQuery() kv.Query {
	return kv.Query{Collection: "sessions", Filters: []kv.Filter{{Field: "tags", Op: "=", Value: w.LookupTag}}}
}

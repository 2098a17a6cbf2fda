// Package gen generates a deterministic synthetic Cairn dataset with the
// shapes of the legacy app's entities (docs/FORMAT.md §7): sessions with
// screenshot records and audio segments, notes, tasks, topics, companies,
// contacts, attachments with duplicated content, and the settings object.
// It is what `kvtool demo`, the benchmark harness and tests load.
//
// # What it owns
//
// The synthetic data: its shapes, sizes, vocabularies and distributions.
// Documents are map[string]any holding only JSON values as encoding/json
// decodes them (string, float64, bool, []any, map[string]any), so a document
// that goes through JSON comes back reflect.DeepEqual to the original.
//
//	g := gen.New(gen.Config{Sessions: 1000, Seed: 7})
//	err := g.Each("sessions", func(doc map[string]any) error { ... })
//	s := g.Session(42) // random access, same document as Each's 43rd
//
// Every document is built from its own PCG (math/rand/v2) seeded from
// (Config.Seed, collection, index), so documents can be built in any order,
// alone or in parallel, with the same result. A Generator has no mutable
// state and is safe for concurrent use.
//
// Sizes with the default Config: 10,000 sessions averaging about 30 KB of
// JSON (every 500th is a two-hour session of about 1.4 MB: 120 screenshot
// records with long OCR text, 40 audio segments, a full transcription, a
// large summary and audio insights), 20,000 notes, 20,000 tasks, 200 topics,
// 250 companies, 500 contacts and 30,000 attachments of about 4 KiB, 40% of
// them duplicates of an earlier one (AttachmentOrigin). Times are uniform
// over 2024–2025 (TimeSpan); tags follow a skewed distribution whose exact
// per-tag probability is TagSelectivity.
//
// Referential integrity: every relationship target, parentNoteId,
// aiContext.sourceNoteId, trackingNoteId, extracted id, contact companyId
// and pinned note is the id of a generated document. Notes and tasks
// extracted from a session are linked both ways (§7.1), with the same
// relationship id on both sides.
//
// # What it must never do
//
// Use randomness not derived from Config.Seed (no global rand, no time.Now,
// no map iteration order in output), depend on the store or any other Cairn
// package, or keep state between calls.
//
// # Caveats
//
// Documents depend on the whole Config, not only on (Seed, index): the
// counts decide relationship targets and which notes belong to which
// session, so Session(5) of a 100-session dataset differs from Session(5)
// of a 10,000-session one. Session start times do not depend on the counts.
//
// Embedded records (screenshots, audio segments, subtasks, one-way
// relationships) have generateId-style ids from the random stream: unique in
// practice, not by construction. Top-level ids are unique within their
// collection by construction (a keyed permutation of the index); ids of
// different collections can in principle coincide, as in the app.
//
// Screenshot and audio attachmentId and hash values are shaped like the
// app's but do not name documents of the attachments collection; session
// relationships of type session-file do.
//
// The text is English-like, built from a fixed vocabulary by a small
// grammar: good enough for full-text search to find real words with skewed
// frequencies (SearchWords), not for language-model quality.
package gen

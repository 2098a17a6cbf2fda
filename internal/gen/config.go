package gen

// Config sizes a dataset. The zero value is the default dataset: 10,000
// sessions with proportional notes, tasks, topics, companies, contacts and
// attachments, seed 0. A zero count means its default; a negative count
// means none of that collection (WithDefaults keeps it negative, so applying
// it twice changes nothing).
type Config struct {
	// Sessions is the number of sessions; 0 means 10,000.
	Sessions int

	// Notes defaults to 2×Sessions, Tasks to 2×Sessions, Topics to
	// Sessions/50, Companies to Sessions/40, Contacts to Sessions/20 (each of
	// those three at least 5) and Attachments to 3×Sessions.
	Notes, Tasks, Topics, Companies, Contacts, Attachments int

	// Seed selects the dataset. Every value, including 0, is a valid seed;
	// the same Config always yields the same documents.
	Seed int64

	// LargeEvery makes every LargeEvery-th session (indexes LargeEvery-1,
	// 2×LargeEvery-1, …) a two-hour session of docs/FORMAT.md §7.8 shape: 120
	// screenshot records with long OCR text, 40 audio segments, a full
	// transcription, a large summary and audio insights, about 1.4 MB of
	// JSON. 0 means 500; negative means no large sessions.
	LargeEvery int

	// AttachmentSize is the mean size in bytes of AttachmentContent; sizes
	// range over [AttachmentSize/2, 3×AttachmentSize/2). Zero or negative
	// means 4096.
	AttachmentSize int
}

// Default values used by WithDefaults.
const (
	DefaultSessions       = 10000
	DefaultLargeEvery     = 500
	DefaultAttachmentSize = 4096
)

// WithDefaults returns c with every zero field replaced by its documented
// default.
func (c Config) WithDefaults() Config {
	if c.Sessions == 0 {
		c.Sessions = DefaultSessions
	}
	s := max(c.Sessions, 0)
	def := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	def(&c.Notes, 2*s)
	def(&c.Tasks, 2*s)
	def(&c.Topics, max(s/50, 5))
	def(&c.Companies, max(s/40, 5))
	def(&c.Contacts, max(s/20, 5))
	def(&c.Attachments, 3*s)
	def(&c.LargeEvery, DefaultLargeEvery)
	if c.AttachmentSize <= 0 {
		c.AttachmentSize = DefaultAttachmentSize
	}
	return c
}

// Counts returns the number of documents per collection that a Generator
// for cfg produces, keyed by the names in Collections.
func Counts(cfg Config) map[string]int {
	n := countsOf(cfg.WithDefaults())
	m := make(map[string]int, numColls)
	for k := range numColls {
		m[collNames[k]] = n[k]
	}
	return m
}

func countsOf(c Config) [numColls]int {
	var n [numColls]int
	n[collTopics] = max(c.Topics, 0)
	n[collCompanies] = max(c.Companies, 0)
	n[collContacts] = max(c.Contacts, 0)
	n[collNotes] = max(c.Notes, 0)
	n[collTasks] = max(c.Tasks, 0)
	n[collSessions] = max(c.Sessions, 0)
	n[collAttachments] = max(c.Attachments, 0)
	return n
}

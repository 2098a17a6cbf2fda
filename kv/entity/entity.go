package entity

// Typed entities for the app's model (docs/FORMAT.md §7). Each declares the
// fields most code needs; everything else a stored document carries stays
// in its Extra and is written back unchanged. Large AI outputs (summary,
// audio insights, canvas) are kept as plain maps so no nested field is
// lost either.

// Relationship links two entities (docs/FORMAT.md §7.1).
type Relationship struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	SourceType string         `json:"sourceType"`
	SourceID   string         `json:"sourceId"`
	TargetType string         `json:"targetType"`
	TargetID   string         `json:"targetId"`
	Metadata   map[string]any `json:"metadata"`
	Canonical  bool           `json:"canonical"`
	Extra      Extra          `json:"-"`
}

// Screenshot is one screenshot record of a session.
type Screenshot struct {
	ID             string         `json:"id"`
	SessionID      string         `json:"sessionId"`
	Timestamp      string         `json:"timestamp"`
	AttachmentID   string         `json:"attachmentId"`
	Hash           string         `json:"hash"`
	AIAnalysis     map[string]any `json:"aiAnalysis"`
	UserComment    string         `json:"userComment"`
	Flagged        bool           `json:"flagged"`
	AnalysisStatus string         `json:"analysisStatus"`
	Extra          Extra          `json:"-"`
}

// AudioSegment is one audio segment record of a session.
type AudioSegment struct {
	ID            string  `json:"id"`
	SessionID     string  `json:"sessionId"`
	Timestamp     string  `json:"timestamp"`
	Duration      float64 `json:"duration"`
	Transcription string  `json:"transcription"`
	AttachmentID  string  `json:"attachmentId"`
	Hash          string  `json:"hash"`
	Extra         Extra   `json:"-"`
}

// Session is a work session (docs/FORMAT.md §7.2).
type Session struct {
	ID                string         `json:"id"`
	Name              string         `json:"name"`
	Description       string         `json:"description"`
	Status            string         `json:"status"`
	StartTime         string         `json:"startTime"`
	EndTime           string         `json:"endTime"`
	Tags              []string       `json:"tags"`
	Category          string         `json:"category"`
	Screenshots       []Screenshot   `json:"screenshots"`
	AudioSegments     []AudioSegment `json:"audioSegments"`
	Relationships     []Relationship `json:"relationships"`
	Summary           map[string]any `json:"summary"`
	FullTranscription string         `json:"fullTranscription"`
	EnrichmentStatus  map[string]any `json:"enrichmentStatus"`
	Version           int64          `json:"version"`
	Extra             Extra          `json:"-"`
}

// Note is a note (docs/FORMAT.md §7.3).
type Note struct {
	ID            string         `json:"id"`
	Content       string         `json:"content"`
	Summary       string         `json:"summary"`
	Timestamp     string         `json:"timestamp"`
	LastUpdated   string         `json:"lastUpdated"`
	Source        string         `json:"source"`
	Status        string         `json:"status"`
	Tags          []string       `json:"tags"`
	ParentNoteID  string         `json:"parentNoteId"`
	Relationships []Relationship `json:"relationships"`
	Extra         Extra          `json:"-"`
}

// Task is a task (docs/FORMAT.md §7.4).
type Task struct {
	ID            string           `json:"id"`
	Title         string           `json:"title"`
	Done          bool             `json:"done"`
	Priority      string           `json:"priority"`
	Status        string           `json:"status"`
	DueDate       string           `json:"dueDate"`
	CreatedAt     string           `json:"createdAt"`
	CompletedAt   string           `json:"completedAt"`
	Description   string           `json:"description"`
	Subtasks      []map[string]any `json:"subtasks"`
	Tags          []string         `json:"tags"`
	CreatedBy     string           `json:"createdBy"`
	Relationships []Relationship   `json:"relationships"`
	Extra         Extra            `json:"-"`
}

// Topic is a topic (docs/FORMAT.md §7.5).
type Topic struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	CreatedAt   string `json:"createdAt"`
	LastUpdated string `json:"lastUpdated"`
	NoteCount   int64  `json:"noteCount"`
	Extra       Extra  `json:"-"`
}

// Company is a company (a topic with a profile).
type Company struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	CreatedAt   string         `json:"createdAt"`
	LastUpdated string         `json:"lastUpdated"`
	NoteCount   int64          `json:"noteCount"`
	Profile     map[string]any `json:"profile"`
	Extra       Extra          `json:"-"`
}

// Contact is a contact (a topic with a profile).
type Contact struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	CreatedAt   string         `json:"createdAt"`
	LastUpdated string         `json:"lastUpdated"`
	NoteCount   int64          `json:"noteCount"`
	Profile     map[string]any `json:"profile"`
	Extra       Extra          `json:"-"`
}

// Attachment is an attachment's metadata (docs/FORMAT.md §7.6) with the hash and
// size of its content in the blob store.
type Attachment struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Name      string `json:"name"`
	MimeType  string `json:"mimeType"`
	Size      int64  `json:"size"`
	CreatedAt string `json:"createdAt"`
	Hash      string `json:"hash"`
	Path      string `json:"path"`
	Extra     Extra  `json:"-"`
}

// Settings is the app's settings object (docs/FORMAT.md §7.7).
type Settings struct {
	AISettings      map[string]any `json:"aiSettings"`
	UserProfile     map[string]any `json:"userProfile"`
	ActiveSessionID string         `json:"activeSessionId"`
	Extra           Extra          `json:"-"`
}

// The JSON methods keep unknown fields (see Extra). Each converts to a
// method-less copy of its type to reach the default encoding.

func (v *Relationship) UnmarshalJSON(b []byte) error {
	type plain Relationship
	return decodeTyped(b, (*plain)(v), &v.Extra)
}
func (v Relationship) MarshalJSON() ([]byte, error) {
	type plain Relationship
	return encodeTyped(plain(v), v.Extra)
}
func (v *Screenshot) UnmarshalJSON(b []byte) error {
	type plain Screenshot
	return decodeTyped(b, (*plain)(v), &v.Extra)
}
func (v Screenshot) MarshalJSON() ([]byte, error) {
	type plain Screenshot
	return encodeTyped(plain(v), v.Extra)
}
func (v *AudioSegment) UnmarshalJSON(b []byte) error {
	type plain AudioSegment
	return decodeTyped(b, (*plain)(v), &v.Extra)
}
func (v AudioSegment) MarshalJSON() ([]byte, error) {
	type plain AudioSegment
	return encodeTyped(plain(v), v.Extra)
}
func (v *Session) UnmarshalJSON(b []byte) error {
	type plain Session
	return decodeTyped(b, (*plain)(v), &v.Extra)
}
func (v Session) MarshalJSON() ([]byte, error) {
	type plain Session
	return encodeTyped(plain(v), v.Extra)
}
func (v *Note) UnmarshalJSON(b []byte) error {
	type plain Note
	return decodeTyped(b, (*plain)(v), &v.Extra)
}
func (v Note) MarshalJSON() ([]byte, error) {
	type plain Note
	return encodeTyped(plain(v), v.Extra)
}
func (v *Task) UnmarshalJSON(b []byte) error {
	type plain Task
	return decodeTyped(b, (*plain)(v), &v.Extra)
}
func (v Task) MarshalJSON() ([]byte, error) {
	type plain Task
	return encodeTyped(plain(v), v.Extra)
}
func (v *Topic) UnmarshalJSON(b []byte) error {
	type plain Topic
	return decodeTyped(b, (*plain)(v), &v.Extra)
}
func (v Topic) MarshalJSON() ([]byte, error) {
	type plain Topic
	return encodeTyped(plain(v), v.Extra)
}
func (v *Company) UnmarshalJSON(b []byte) error {
	type plain Company
	return decodeTyped(b, (*plain)(v), &v.Extra)
}
func (v Company) MarshalJSON() ([]byte, error) {
	type plain Company
	return encodeTyped(plain(v), v.Extra)
}
func (v *Contact) UnmarshalJSON(b []byte) error {
	type plain Contact
	return decodeTyped(b, (*plain)(v), &v.Extra)
}
func (v Contact) MarshalJSON() ([]byte, error) {
	type plain Contact
	return encodeTyped(plain(v), v.Extra)
}
func (v *Attachment) UnmarshalJSON(b []byte) error {
	type plain Attachment
	return decodeTyped(b, (*plain)(v), &v.Extra)
}
func (v Attachment) MarshalJSON() ([]byte, error) {
	type plain Attachment
	return encodeTyped(plain(v), v.Extra)
}
func (v *Settings) UnmarshalJSON(b []byte) error {
	type plain Settings
	return decodeTyped(b, (*plain)(v), &v.Extra)
}
func (v Settings) MarshalJSON() ([]byte, error) {
	type plain Settings
	return encodeTyped(plain(v), v.Extra)
}

package schema

// The built-in collections: the old app's entity model (docs/FORMAT.md §7),
// in the order kvtool lists them.

func value(field string) Index {
	return Index{Name: field, Field: field, Paths: []string{field}, BuiltIn: true}
}

func stats(field string) Index {
	ix := value(field)
	ix.Stats = true
	return ix
}

// compound is a built-in compound index over fields (Index.Fields).
func compound(fields ...string) Index {
	f := CompoundField(fields)
	return Index{Name: f, Field: f, Paths: fields, Fields: fields, BuiltIn: true}
}

func folded(field string) Index {
	ix := value(field)
	ix.Folded = true
	return ix
}

// links is the links index over relationships[].targetId and a
// collection's legacy link fields (docs/FORMAT.md §7.1).
func links(legacy ...string) Index {
	return Index{Name: "links", Field: LinksField, Paths: append([]string{"relationships.targetId"}, legacy...), BuiltIn: true}
}

var builtins = []*Collection{
	{
		Name: "sessions", Kind: Entity, BuiltIn: true,
		ArrayParts: []string{"screenshots", "audioSegments", "contextItems"},
		BlobParts:  []string{"summary", "audioInsights", "canvasSpec", "fullTranscription", "audioKeyMoments"},
		Summary:    []string{"name", "status", "startTime", "endTime", "tags"},
		Derived:    []Derived{{Name: "screenshotCount", Count: "screenshots"}, {Name: "audioSegmentCount", Count: "audioSegments"}},
		Timestamps: []string{"startTime", "endTime", "lastScreenshotTime", "pausedAt", "createdAt", "updatedAt",
			"enrichmentStatus.startedAt", "enrichmentStatus.completedAt",
			"enrichmentStatus.audio.startedAt", "enrichmentStatus.audio.completedAt",
			"enrichmentStatus.video.startedAt", "enrichmentStatus.video.completedAt",
			"enrichmentLock.lockedAt", "enrichmentLock.expiresAt", "video.processedAt",
			"relationships.metadata.createdAt",
			"screenshots.timestamp", "audioSegments.timestamp", "contextItems.timestamp",
			"summary.lastUpdated", "audioInsights.processedAt"},
		Indexes: []Index{stats("startTime"), stats("endTime"), stats("status"), stats("tags"), stats("category"),
			// Sessions of one status by time: the demo's and the web UI's
			// commonest query (BenchmarkQuery/status-time-sorted).
			compound("status", "startTime"),
			links("extractedTaskIds", "extractedNoteIds", "companyIds", "contactIds", "topicIds", "trackingNoteId")},
		Search: []SearchField{
			{Name: "name", Paths: []string{"name"}, Role: RoleTitle},
			{Name: "description", Paths: []string{"description"}},
			{Name: "summary", Paths: []string{"summary.narrative", "summary.achievements", "summary.blockers"}},
			{Name: "transcript", Paths: []string{"fullTranscription", "audioSegments.transcription"}},
			{Name: "screenshots", Paths: []string{"screenshots.aiAnalysis.summary", "screenshots.aiAnalysis.detectedActivity", "screenshots.aiAnalysis.extractedText"}},
			{Name: "tags", Paths: []string{"tags"}, Role: RoleTags},
		},
		Columns: []string{"id", "name", "status", "startTime", "tags", "screenshotCount"},
	},
	{
		Name: "notes", Kind: Entity, BuiltIn: true,
		Summary: []string{"timestamp", "lastUpdated", "tags"},
		Derived: []Derived{{Name: "title", Title: []string{"content", "summary"}}},
		Timestamps: []string{"timestamp", "lastUpdated", "createdAt", "updatedAt", "updates.timestamp",
			"metadata.aiEnrichment.enrichedAt", "relationships.metadata.createdAt"},
		Indexes: []Index{stats("timestamp"), stats("lastUpdated"), stats("source"), stats("status"), stats("tags"), value("parentNoteId"),
			links("topicId", "companyIds", "contactIds", "topicIds", "sourceSessionId")},
		Search: []SearchField{
			{Name: "title", Derived: "title", Role: RoleTitle},
			{Name: "content", Paths: []string{"content"}},
			{Name: "summary", Paths: []string{"summary"}},
			{Name: "updates", Paths: []string{"updates.content"}},
			{Name: "tags", Paths: []string{"tags"}, Role: RoleTags},
		},
		Columns: []string{"id", "title", "timestamp", "tags"},
	},
	{
		Name: "tasks", Kind: Entity, BuiltIn: true,
		Summary: []string{"title", "status", "priority", "done", "dueDate"},
		Timestamps: []string{"dueDate", "createdAt", "completedAt", "updatedAt", "lastUpdated",
			"subtasks.createdAt", "relationships.metadata.createdAt"},
		Indexes: []Index{stats("status"), stats("priority"), stats("done"), stats("dueDate"), stats("createdAt"), stats("tags"),
			links("topicId", "companyIds", "contactIds", "noteId", "sourceNoteId", "sourceSessionId", "aiContext.sourceNoteId")},
		Search: []SearchField{
			{Name: "title", Paths: []string{"title"}, Role: RoleTitle},
			{Name: "description", Paths: []string{"description"}},
			{Name: "subtasks", Paths: []string{"subtasks.title"}},
			{Name: "tags", Paths: []string{"tags"}, Role: RoleTags},
		},
		Columns: []string{"id", "title", "status", "priority", "dueDate"},
	},
	namedEntity("topics"),
	namedEntity("companies"),
	namedEntity("contacts"),
	{
		Name: "attachments", Kind: Entity, BuiltIn: true,
		Summary:    []string{"name", "lastUpdated", "type", "mimeType", "hash"},
		Derived:    []Derived{{Name: "fileSize", Copy: "size"}},
		Timestamps: []string{"createdAt", "lastUpdated", "updatedAt"},
		Indexes:    []Index{stats("type"), value("hash"), stats("createdAt")},
		Search: []SearchField{
			{Name: "name", Paths: []string{"name"}, Role: RoleTitle},
			{Name: "description", Paths: []string{"aiAnalysis.description"}},
			{Name: "text", Paths: []string{"aiAnalysis.extractedText"}},
		},
		BlobRef: "hash",
		Columns: []string{"id", "name", "type", "mimeType", "fileSize", "lastUpdated"},
	},
	{Name: "extras", Kind: Extras, BuiltIn: true, Columns: []string{"id"}},
	{Name: "settings", Kind: Singleton, BuiltIn: true},
	{Name: "aiSettings", Kind: Singleton, BuiltIn: true},
	{Name: "preferences", Kind: Singleton, BuiltIn: true},
}

// namedEntity declares topics, companies and contacts: a name, a profile
// of free text, and the times.
func namedEntity(name string) *Collection {
	return &Collection{
		Name: name, Kind: Entity, BuiltIn: true,
		Summary:    []string{"name", "lastUpdated"},
		Timestamps: []string{"createdAt", "lastUpdated", "updatedAt"},
		Indexes:    []Index{folded("name"), stats("lastUpdated")},
		Search: []SearchField{
			{Name: "name", Paths: []string{"name"}, Role: RoleTitle},
			{Name: "profile", Paths: []string{"profile.*"}},
		},
		Columns: []string{"id", "name", "lastUpdated"},
	}
}

var builtinIndex = func() map[string]*Collection {
	m := make(map[string]*Collection, len(builtins))
	for _, c := range builtins {
		m[c.Name] = c
	}
	return m
}()

// Builtins returns the built-in collections, entity collections first, in
// the order kvtool lists them.
func Builtins() []*Collection {
	out := make([]*Collection, len(builtins))
	for i, c := range builtins {
		out[i] = c.clone()
	}
	return out
}

// BuiltinNames returns the names of the built-in collections.
func BuiltinNames() []string {
	out := make([]string, len(builtins))
	for i, c := range builtins {
		out[i] = c.Name
	}
	return out
}

// CarriesID reports whether the documents of the collection name carry
// their key as their "id" field: those of the built-in entity
// collections and of every user collection (not extras, not singletons).
func CarriesID(name string) bool {
	if c, ok := builtinIndex[name]; ok {
		return c.Kind == Entity
	}
	return ValidName(name) == nil
}

// IsBuiltin reports whether name is a built-in collection.
func IsBuiltin(name string) bool {
	_, ok := builtinIndex[name]
	return ok
}

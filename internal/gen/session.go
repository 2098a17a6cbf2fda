package gen

// Sessions (docs/FORMAT.md §7.2).

type sessionHdr struct {
	start    int64 // epoch ms
	dur      int64 // recorded time, ms
	paused   int64 // total paused time, ms
	status   string
	interval int // screenshot interval, minutes; -1 adaptive
	large    bool
}

func (h sessionHdr) end() int64 { return h.start + h.dur + h.paused }

var intervals = [...]int{2, 1, 5, -1}
var intervalWeights = [...]float64{0.75, 0.10, 0.10, 0.05}

func (g *Generator) isLarge(i int) bool {
	return g.cfg.LargeEvery > 0 && i%g.cfg.LargeEvery == g.cfg.LargeEvery-1
}

// sessionHeader holds what other documents need to know about session i.
func (g *Generator) sessionHeader(i int) sessionHdr {
	r := g.rng(collSessions, streamHeader, i)
	h := sessionHdr{large: g.isLarge(i)}
	h.start = spanStart + r.int64n(spanEnd-spanStart-4*hour)
	if h.large {
		h.status, h.interval, h.dur = "completed", 1, 120*minute
	} else {
		h.status = sessionStatuses[r.weighted(sessionStatusWeights[:])]
		h.interval = intervals[r.weighted(intervalWeights[:])]
		u := r.float()
		h.dur = int64((10+140*u*u)*float64(minute)) + r.int64n(minute)
	}
	if h.status == "paused" || r.chance(0.2) {
		h.paused = int64(r.between(1, 30)) * minute
	}
	return h
}

// Session returns session i, a document of docs/FORMAT.md §7.2 shape of about
// 30 KB of JSON on average (about 1.4 MB for a large session, see
// Config.LargeEvery). It panics if i is out of range.
func (g *Generator) Session(i int) map[string]any {
	g.check(collSessions, i)
	h := g.sessionHeader(i)
	b := g.newBuilder(collSessions, streamBody, i)
	r := &b.r
	id := g.idAt(collSessions, i, h.start)
	end := h.end()
	ended := h.status == "completed" || h.status == "interrupted"
	scale := 1
	if h.large {
		scale = 8
	}

	doc := map[string]any{
		"id":                  id,
		"name":                b.title(),
		"description":         b.sentences(r.between(1, 3)),
		"status":              h.status,
		"startTime":           iso(h.start),
		"screenshotInterval":  float64(h.interval),
		"autoAnalysis":        h.large || r.chance(0.85),
		"tags":                b.tags(),
		"version":             float64(r.between(1, 40)),
		"relationshipVersion": float64(1),
	}
	if ended {
		doc["endTime"] = iso(end)
		doc["totalDuration"] = float64(h.dur / minute)
	}
	if h.status == "paused" {
		doc["pausedAt"] = iso(h.start + h.dur)
	}
	if h.paused > 0 {
		doc["totalPausedTime"] = float64(h.paused)
	}
	if r.chance(0.9) {
		doc["category"] = b.pick(categories[:])
		doc["subCategory"] = b.pick(subCategories[:])
		doc["activityType"] = b.pick(activityTypes[:])
	}

	// Screenshots.
	shots := []any{}
	enableShots := h.large || r.chance(0.95)
	doc["enableScreenshots"] = enableShots
	if enableShots {
		every := h.interval
		if every < 0 {
			every = 3
		}
		n := int(h.dur/minute) / every
		if !h.large {
			n = min(n, 40)
		}
		step := h.dur / int64(max(n, 1))
		for k := range n {
			ts := h.start + int64(k)*step + r.int64n(step/4+1)
			shots = append(shots, b.screenshot(id, ts, h.large))
		}
		if n > 0 {
			doc["lastScreenshotTime"] = shots[n-1].(map[string]any)["timestamp"]
		}
	}
	doc["screenshots"] = shots

	// Audio.
	audio := h.large || r.chance(0.4)
	doc["audioRecording"] = audio
	doc["audioMode"] = "off"
	var segs []any
	var transcript []byte
	if audio {
		doc["audioMode"] = "transcription"
		if !h.large && r.chance(0.2) {
			doc["audioMode"] = "description"
		}
		n := 40
		if !h.large {
			n = r.between(2, 10)
		}
		step := h.dur / int64(n)
		for k := range n {
			ts := h.start + int64(k)*step
			seg := b.audioSegment(id, ts, float64(step/1000), h.large)
			segs = append(segs, seg)
			if k > 0 {
				transcript = append(transcript, ' ')
			}
			transcript = append(transcript, seg["transcription"].(string)...)
		}
		doc["audioSegments"] = segs
		doc["audioConfig"] = map[string]any{
			"sourceType":   []string{"microphone", "system-audio", "both"}[r.intn(3)],
			"micDeviceId":  "default",
			"balance":      float64(r.between(0, 100)),
			"micVolume":    float64(r.between(50, 100)),
			"systemVolume": float64(r.between(50, 100)),
			"vadEnabled":   r.chance(0.7),
			"vadThreshold": float64(-r.between(30, 60)),
		}
		doc["transcriptUpgradeCompleted"] = ended && r.chance(0.6)
	}
	reviewed := audio && ended && (h.large || r.chance(0.6))
	doc["audioReviewCompleted"] = reviewed
	if reviewed {
		doc["fullAudioAttachmentId"] = b.attachmentRef(end)
		doc["fullTranscription"] = string(transcript)
	}

	// Video.
	video := !h.large && r.chance(0.1)
	doc["videoRecording"] = video
	if video {
		doc["videoConfig"] = map[string]any{
			"sourceType": "display",
			"displayIds": []any{"1"},
			"quality":    []string{"low", "medium", "high", "ultra"}[r.intn(4)],
			"fps":        float64(15 * r.between(1, 2)),
			"resolution": map[string]any{"width": float64(1920), "height": float64(1080)},
		}
		if ended {
			doc["video"] = map[string]any{
				"id":             b.randID(end),
				"sessionId":      id,
				"path":           "/Users/me/Library/Application Support/taskerino/videos/" + id + ".mp4",
				"duration":       float64(h.dur / 1000),
				"chunkingStatus": "complete",
				"processedAt":    iso(end + 5*minute),
			}
		}
	}

	// Context items.
	if k := r.intn(4); k > 0 {
		items := make([]any, k)
		for n := range items {
			ts := h.start + r.int64n(h.dur)
			items[n] = map[string]any{
				"id":        b.randID(ts),
				"sessionId": id,
				"timestamp": iso(ts),
				"type":      []string{"note", "task", "marker"}[r.intn(3)],
				"content":   b.sentences(1),
			}
		}
		doc["contextItems"] = items
	}

	// Relationships and the legacy id lists derived from them.
	rels := []any{}
	rels, _ = b.entityRels(rels, collTopics, "session-topic", "session", id, r.between(1, 2), end)
	rels, _ = b.entityRels(rels, collCompanies, "session-company", "session", id, r.intn(3), end)
	rels, _ = b.entityRels(rels, collContacts, "session-contact", "session", id, r.intn(4), end)
	if r.chance(0.3) {
		rels, _ = b.entityRels(rels, collAttachments, "session-file", "session", id, r.between(1, 2), end)
	}
	noteIDs, taskIDs := []any{}, []any{}
	for _, j := range g.linkedChildren(collNotes, i) {
		rels = append(rels, g.pairRel(collNotes, j, true))
		noteIDs = append(noteIDs, g.id(collNotes, j))
	}
	for _, j := range g.linkedChildren(collTasks, i) {
		rels = append(rels, g.pairRel(collTasks, j, true))
		taskIDs = append(taskIDs, g.id(collTasks, j))
	}
	doc["relationships"] = rels
	doc["extractedNoteIds"] = noteIDs
	doc["extractedTaskIds"] = taskIDs
	if len(noteIDs) > 0 && r.chance(0.3) {
		doc["trackingNoteId"] = noteIDs[0]
	}

	// Enrichment.
	if ended && (h.large || r.chance(0.85)) {
		doc["summary"] = b.summary(h, len(shots), scale)
		if h.large {
			doc["audioInsights"] = b.audioInsights(h)
		}
	}
	doc["enrichmentStatus"] = b.enrichmentStatus(h, ended, audio, video)
	doc["enrichmentConfig"] = map[string]any{
		"includeAudioReview":   audio,
		"includeVideoChapters": video,
		"autoEnrichOnComplete": r.chance(0.8),
	}
	return doc
}

func (b *builder) screenshot(sessionID string, ts int64, large bool) map[string]any {
	r := &b.r
	ocrTokens := r.between(10, 28)
	summary := r.between(1, 2)
	if large {
		ocrTokens = r.between(700, 1100)
		summary = r.between(3, 5)
	}
	ai := map[string]any{
		"summary":          b.sentences(summary),
		"detectedActivity": b.pick(detectedActivities[:]),
		"extractedText":    b.ocr(ocrTokens),
		"keyElements":      b.fragments(r.between(2, 5)),
		"confidence":       b.conf(0.55),
	}
	if r.chance(0.4) {
		ai["suggestedActions"] = b.sentenceList(r.between(1, 2))
	}
	if r.chance(0.5) {
		ai["contextDelta"] = b.sentences(1)
	}
	if r.chance(0.5) {
		ai["curiosity"] = b.conf(0)
		if r.chance(0.4) {
			ai["curiosityReason"] = b.sentences(1)
		}
	}
	if r.chance(0.6) {
		pi := map[string]any{}
		if r.chance(0.5) {
			pi["achievements"] = b.sentenceList(1)
		}
		if r.chance(0.2) {
			pi["blockers"] = b.sentenceList(1)
		}
		if r.chance(0.5) {
			pi["insights"] = b.sentenceList(1)
		}
		ai["progressIndicators"] = pi
	}
	if r.chance(0.5) {
		ai["detectedEntities"] = map[string]any{
			"topics":    b.namedEntities(collTopics, r.intn(3)),
			"companies": b.namedEntities(collCompanies, r.intn(2)),
			"contacts":  b.namedEntities(collContacts, r.intn(3)),
		}
	}
	s := map[string]any{
		"id":           b.randID(ts),
		"sessionId":    sessionID,
		"timestamp":    iso(ts),
		"attachmentId": b.attachmentRef(ts),
		"hash":         b.hash(),
		"aiAnalysis":   ai,
	}
	switch u := r.float(); {
	case u < 0.96:
		s["analysisStatus"] = "complete"
	case u < 0.98:
		s["analysisStatus"] = "error"
		s["analysisError"] = "analysis timed out after 30000 ms"
		delete(s, "aiAnalysis")
	default:
		s["analysisStatus"] = "pending"
		delete(s, "aiAnalysis")
	}
	if r.chance(0.05) {
		s["userComment"] = b.sentences(1)
	}
	if r.chance(0.03) {
		s["flagged"] = true
	}
	return s
}

func (b *builder) fragments(n int) []any {
	out := make([]any, n)
	for k := range out {
		out[k] = b.fragment()
	}
	return out
}

// namedEntities returns n {name, confidence} records naming existing
// documents of c.
func (b *builder) namedEntities(c coll, n int) []any {
	out := []any{}
	if b.g.n[c] == 0 {
		return out
	}
	for range n {
		out = append(out, map[string]any{
			"name":       b.g.name(c, b.r.skewed(b.g.n[c])),
			"confidence": b.conf(0.5),
		})
	}
	return out
}

var sentiments = [...]string{"positive", "neutral", "negative"}

func (b *builder) audioSegment(sessionID string, ts int64, seconds float64, large bool) map[string]any {
	r := &b.r
	n := r.between(2, 5)
	if large {
		n = r.between(18, 30)
	}
	seg := map[string]any{
		"id":                   b.randID(ts),
		"sessionId":            sessionID,
		"timestamp":            iso(ts),
		"duration":             seconds,
		"transcription":        b.speech(n),
		"attachmentId":         b.attachmentRef(ts),
		"hash":                 b.hash(),
		"transcriptionQuality": []string{"final", "draft"}[r.intn(2)],
		"sentiment":            sentiments[r.intn(3)],
		"containsTask":         r.chance(0.2),
		"containsBlocker":      r.chance(0.1),
	}
	if r.chance(0.5) {
		seg["keyPhrases"] = b.fragments(r.between(1, 4))
	}
	return seg
}

func (b *builder) summary(h sessionHdr, shots, scale int) map[string]any {
	r := &b.r
	end := h.end()
	at := func() string { return iso(h.start + r.int64n(h.dur)) }
	achievements := make([]any, r.between(1, 4)*scale)
	for k := range achievements {
		achievements[k] = b.prefixed(achievementsText[:])
	}
	blockers := make([]any, r.intn(3)*scale)
	for k := range blockers {
		blockers[k] = b.prefixed(blockersText[:])
	}
	tasks := make([]any, r.between(1, 3)*scale)
	for k := range tasks {
		tasks[k] = map[string]any{
			"title":    b.title(),
			"priority": b.pick(priorities[:]),
			"context":  b.sentences(1),
			"category": b.pick(categories[:]),
		}
	}
	insights := make([]any, r.between(1, 3)*scale)
	for k := range insights {
		insights[k] = map[string]any{"insight": b.sentences(1), "timestamp": at()}
	}
	focus := make([]any, r.between(1, 3))
	for k := range focus {
		focus[k] = map[string]any{
			"area":       b.pick(subCategories[:]),
			"duration":   float64(r.between(5, int(h.dur/minute)+5)),
			"percentage": float64(r.between(5, 80)),
		}
	}
	s := map[string]any{
		"narrative":        b.sentences(r.between(3, 6) * scale),
		"achievements":     achievements,
		"blockers":         blockers,
		"recommendedTasks": tasks,
		"keyInsights":      insights,
		"focusAreas":       focus,
		"lastUpdated":      iso(end + r.int64n(10*minute)),
		"screenshotCount":  float64(shots),
	}
	if scale > 1 {
		moments := make([]any, 30)
		for k := range moments {
			moments[k] = map[string]any{
				"timestamp":   at(),
				"type":        []string{"breakthrough", "decision", "context-switch", "blocker"}[r.intn(4)],
				"title":       b.title(),
				"description": b.sentences(3),
				"importance":  []string{"low", "medium", "high"}[r.intn(3)],
			}
		}
		s["keyMoments"] = moments
		dyn := make([]any, 20)
		for k := range dyn {
			dyn[k] = map[string]any{"category": b.pick(categories[:]), "insight": b.sentences(3), "confidence": b.conf(0.5)}
		}
		s["dynamicInsights"] = dyn
		s["generationMetadata"] = map[string]any{
			"model": "claude-sonnet-4-5", "inputTokens": float64(r.between(40000, 120000)),
			"outputTokens": float64(r.between(4000, 12000)), "durationMs": float64(r.between(20000, 90000)),
		}
	}
	return s
}

func (b *builder) prefixed(prefixes []string) string {
	b.buf = append(b.buf[:0], prefixes[b.r.intn(len(prefixes))]...)
	b.buf = append(b.buf, ' ')
	b.buf = b.appendNP(b.buf)
	return b.str()
}

func (b *builder) audioInsights(h sessionHdr) map[string]any {
	r := &b.r
	at := func() string { return iso(h.start + r.int64n(h.dur)) }
	journey := make([]any, 16)
	for k := range journey {
		journey[k] = map[string]any{
			"timestamp":   at(),
			"emotion":     []string{"focused", "frustrated", "energized", "calm", "distracted"}[r.intn(5)],
			"description": b.sentences(2),
		}
	}
	moments := make([]any, 30)
	for k := range moments {
		moments[k] = map[string]any{
			"timestamp":   at(),
			"type":        []string{"achievement", "blocker", "decision", "insight"}[r.intn(4)],
			"description": b.sentences(2),
			"context":     b.sentences(1),
			"excerpt":     b.speech(2),
		}
	}
	return map[string]any{
		"narrative":        b.sentences(40),
		"emotionalJourney": journey,
		"keyMoments":       moments,
		"workPatterns": map[string]any{
			"focusLevel":    []string{"high", "medium", "low"}[r.intn(3)],
			"interruptions": float64(r.intn(12)),
			"flowStates":    []any{map[string]any{"start": at(), "end": at(), "description": b.sentences(2)}},
		},
		"environmentalContext": map[string]any{
			"ambientNoise": []string{"quiet", "moderate", "noisy"}[r.intn(3)],
			"workSetting":  []string{"home", "office", "cafe"}[r.intn(3)],
			"timeOfDay":    []string{"morning", "afternoon", "evening"}[r.intn(3)],
		},
		"processedAt":        iso(h.end() + 3*minute),
		"modelUsed":          "gpt-4o-audio-preview",
		"processingDuration": float64(r.between(20000, 120000)),
	}
}

var enrichmentStates = [...]string{"completed", "partial", "failed", "idle"}
var enrichmentStateWeights = [...]float64{0.8, 0.08, 0.04, 0.08}

func (b *builder) enrichmentStatus(h sessionHdr, ended, audio, video bool) map[string]any {
	r := &b.r
	if !ended {
		return map[string]any{
			"status": "idle", "progress": float64(0), "currentStage": "validating",
			"audio": map[string]any{"status": "pending"}, "video": map[string]any{"status": "pending"},
			"summary": map[string]any{"status": "pending"}, "totalCost": float64(0),
			"errors": []any{}, "warnings": []any{}, "canResume": false,
		}
	}
	st := enrichmentStates[r.weighted(enrichmentStateWeights[:])]
	if h.large {
		st = "completed"
	}
	done := iso(h.end() + int64(r.between(1, 10))*minute)
	stage := func(on bool) map[string]any {
		if !on {
			return map[string]any{"status": "skipped"}
		}
		switch st {
		case "failed":
			return map[string]any{"status": "failed", "error": "provider returned 529 overloaded"}
		case "idle":
			return map[string]any{"status": "pending"}
		}
		return map[string]any{"status": "completed", "completedAt": done, "cost": float64(r.intn(40)) / 100}
	}
	e := map[string]any{
		"status":       st,
		"progress":     float64(100),
		"currentStage": "complete",
		"audio":        stage(audio),
		"video":        stage(video),
		"summary":      stage(true),
		"totalCost":    float64(r.intn(120)) / 100,
		"errors":       []any{},
		"warnings":     []any{},
		"canResume":    st == "failed" || st == "partial",
	}
	switch st {
	case "failed":
		e["progress"], e["currentStage"] = float64(r.intn(90)), "error"
		e["errors"] = []any{"provider returned 529 overloaded"}
	case "idle":
		e["progress"], e["currentStage"] = float64(0), "validating"
	case "partial":
		e["warnings"] = []any{"audio review skipped: cost threshold exceeded"}
	}
	if st != "idle" {
		e["startedAt"] = iso(h.end() + minute)
		e["completedAt"] = done
	}
	return e
}

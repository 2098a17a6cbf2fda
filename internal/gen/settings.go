package gen

// Settings returns the settings object of docs/FORMAT.md §7.7 (the payload of
// db/settings.json): aiSettings, learningSettings, userProfile, learnings,
// nedSettings, sessionRecordingDefaults, enrichmentSettings, ui (with
// pinnedNotes naming existing notes), searchHistory, and activeSessionId
// when some session is active. It has no id.
func (g *Generator) Settings() map[string]any {
	b := g.newBuilder(collSessions, streamSettings, 0)
	r := &b.r
	at := func() string { return iso(spanStart + r.int64n(spanEnd-spanStart)) }

	learnings := make([]any, 12)
	cats := []string{"task-creation", "task-timing", "task-priority", "topic-detection", "note-merging", "tagging", "formatting"}
	for k := range learnings {
		evidence := make([]any, r.between(1, 4))
		for e := range evidence {
			evidence[e] = map[string]any{
				"id":         b.randID(spanStart + r.int64n(spanEnd-spanStart)),
				"timestamp":  at(),
				"context":    b.sentences(1),
				"userAction": []string{"confirm", "modify", "reject", "ignore"}[r.intn(4)],
			}
		}
		learnings[k] = map[string]any{
			"id":             b.randID(spanStart + r.int64n(spanEnd-spanStart)),
			"category":       cats[r.intn(len(cats))],
			"pattern":        b.sentences(1),
			"action":         b.sentences(1),
			"strength":       float64(r.intn(101)),
			"evidence":       evidence,
			"createdAt":      at(),
			"lastReinforced": at(),
			"timesApplied":   float64(r.intn(50)),
			"timesConfirmed": float64(r.intn(20)),
			"timesRejected":  float64(r.intn(5)),
			"status":         []string{"active", "experimental", "deprecated"}[r.intn(3)],
			"isFlag":         r.chance(0.1),
		}
	}

	pinned := []any{}
	for k := range min(3, g.n[collNotes]) {
		pinned = append(pinned, g.id(collNotes, k))
	}
	history := make([]any, 10)
	for k := range history {
		history[k] = map[string]any{
			"id":          b.randID(spanStart + r.int64n(spanEnd-spanStart)),
			"query":       searchWords[r.intn(len(searchWords))],
			"type":        []string{"note", "task", "topic", "all"}[r.intn(4)],
			"timestamp":   at(),
			"resultCount": float64(r.intn(200)),
		}
	}

	s := map[string]any{
		"aiSettings": map[string]any{
			"systemInstructions": b.sentences(3),
			"autoMergeNotes":     true,
			"autoExtractTasks":   true,
		},
		"learningSettings": map[string]any{
			"enabled": true, "confirmationPoints": float64(10), "rejectionPenalty": float64(20),
			"applicationBonus": float64(1), "flagMultiplier": 1.5, "timeDecayDays": float64(30),
			"timeDecayRate": 0.5,
			"thresholds":    map[string]any{"deprecated": float64(10), "active": float64(50), "rule": float64(80)},
		},
		"userProfile": map[string]any{"name": "Alex Morgan"},
		"learnings": map[string]any{
			"userId": "default", "profileName": "Alex Morgan", "learnings": learnings,
			"stats": map[string]any{"totalLearnings": float64(len(learnings)), "activeRules": float64(4),
				"experimentalPatterns": float64(5), "observations": float64(3)},
		},
		"nedSettings": map[string]any{
			"chattiness": "balanced", "showThinking": false,
			"permissions":        []any{map[string]any{"toolName": "search_notes", "level": "forever", "grantedAt": at()}},
			"sessionPermissions": []any{},
			"tokenUsage":         map[string]any{"total": float64(1843211), "thisMonth": float64(91233), "estimatedCost": 12.4},
		},
		"sessionRecordingDefaults": map[string]any{
			"video":      map[string]any{"codec": "h264", "bitrate": float64(5000), "resolution": "native", "frameRate": float64(30)},
			"screenshot": map[string]any{"format": "jpg", "quality": float64(80)},
			"audio":      map[string]any{"sampleRate": float64(48000), "bitDepth": float64(16)},
			"pip":        map[string]any{"position": "bottom-right", "size": "medium", "borderEnabled": true},
			"audioRecording": map[string]any{
				"micGain": float64(100), "systemAudioGain": float64(100), "micNoiseReduction": true,
				"micEchoCancellation": true, "autoLeveling": false, "compression": false,
				"compressionThreshold": float64(-20), "perAppAudioEnabled": false, "vadThreshold": float64(-45),
			},
			"lastUsedDevices": map[string]any{"micDeviceId": "default", "displayIds": []any{"1"}},
		},
		"enrichmentSettings": map[string]any{
			"strategy": "ai-agent",
			"legacy":   map[string]any{"enableIncremental": true, "enableCaching": true},
			"aiAgent":  map[string]any{"model": "claude-sonnet-4-5", "temperature": 0.3, "maxTokens": float64(8192), "enableToolUse": true, "enableStreaming": true},
		},
		"ui": map[string]any{
			"preferences": map[string]any{
				"defaultView": map[string]any{"tasks": "kanban", "notes": "grid"},
				"filters": map[string]any{
					"tasks": map[string]any{"status": "all", "priority": "all"},
					"notes": map[string]any{"sortBy": "recent"},
				},
				"theme": "auto", "compactMode": false, "defaultTab": "sessions", "showReferencePanel": true,
				"referencePanelWidth": float64(30), "dateFormat": "24h", "timezone": "Europe/Berlin",
				"weekStartsOn": "monday", "zoomLevel": float64(100),
			},
			"pinnedNotes": pinned,
			"onboarding": map[string]any{
				"completed": true, "currentStep": float64(7), "dismissedTooltips": []any{"capture-box", "cmd-k"},
				"featureIntroductions": map[string]any{
					"captureBox": true, "toggles": true, "quickAdd": true, "filters": true, "inlineEdit": true,
					"cmdK": true, "backgroundProcessing": true, "nedAssistant": true, "referencePanel": false,
					"sessions": true, "taskDetailSidebar": true, "taskViews": true,
				},
				"stats": map[string]any{
					"captureCount": float64(g.n[collNotes]), "taskCount": float64(g.n[collTasks]),
					"sessionCount": float64(g.n[collSessions]), "noteCount": float64(g.n[collNotes]),
					"nedQueryCount": float64(412), "tooltipsShown": float64(18), "tooltipsDismissed": float64(15),
					"lastActiveDate": iso(spanEnd - day),
				},
				"firstCaptureCompleted": true, "interactiveTutorialShown": true,
			},
		},
		"searchHistory": history,
	}
	for i := g.n[collSessions] - 1; i >= 0; i-- {
		if g.sessionHeader(i).status == "active" {
			s["activeSessionId"] = g.id(collSessions, i)
			break
		}
	}
	return s
}

package gen

// The fixed vocabularies. They are part of the generator's contract: a
// benchmark may pick Tags[0] knowing it is the most frequent tag, or search
// for "roadmap" knowing it occurs.

// tagList is ordered by descending frequency. The first commonTags are
// "common" (they can be a document's primary tag or one of its extra tags);
// the rest are "rare" (primary only, with the small fixed weights in
// rareTagWeights), so a rare tag's selectivity is exactly its weight.
var tagList = [...]string{
	"work", "meeting", "development", "planning", "research",
	"email", "design", "review", "customer", "budget",
	"roadmap", "deploy", "bugfix", "documentation", "hiring",
	"sales", "marketing", "finance", "personal", "learning",
	"urgent", "follow-up", "ops", "security", "infra",
	"legal", "travel", "health", "side-project", "archive",
}

const commonTags = 20

// rareTagWeights are the primary-tag probabilities of tagList[commonTags:].
var rareTagWeights = [...]float64{0.004, 0.003, 0.003, 0.002, 0.002, 0.002, 0.001, 0.001, 0.001, 0.001}

// tagCountWeights[k] is the probability that a document has k+1 tags.
var tagCountWeights = [...]float64{0.35, 0.35, 0.20, 0.10}

// Exported copies of the vocabularies. The generator reads private arrays, so
// changing these slices does not change what it produces.
var (
	// Tags is the tag vocabulary, most frequent first. Every session, note
	// and task carries 1 to 4 distinct tags from it; TagSelectivity gives the
	// expected fraction of documents that carry each one.
	Tags = append([]string(nil), tagList[:]...)

	// SessionStatuses are the session status values, most frequent first
	// (about 90% completed).
	SessionStatuses = append([]string(nil), sessionStatuses[:]...)

	// TaskStatuses are the task status values.
	TaskStatuses = append([]string(nil), taskStatuses[:]...)

	// Priorities are the task priority values.
	Priorities = append([]string(nil), priorities[:]...)

	// NoteSources are the note source values.
	NoteSources = append([]string(nil), noteSources[:]...)

	// Categories are the session category values.
	Categories = append([]string(nil), categories[:]...)

	// SearchWords are words that occur in the generated text (session
	// screenshots and summaries, notes, tasks), several in more than one form
	// ("meeting", "meetings", "met"), for full-text search benchmarks.
	SearchWords = append([]string(nil), searchWords[:]...)
)

var searchWords = [...]string{"meeting", "meetings", "roadmap", "roadmaps", "budget", "budgets",
	"budgeting", "customer", "customers", "deploy", "deployed", "deploying", "deployment",
	"invoice", "migration", "pricing", "onboarding", "latency"}

var sessionStatuses = [...]string{"completed", "interrupted", "paused", "active"}
var sessionStatusWeights = [...]float64{0.90, 0.05, 0.03, 0.02}

var taskStatuses = [...]string{"todo", "in-progress", "done", "blocked"}
var priorities = [...]string{"low", "medium", "high", "urgent"}
var noteSources = [...]string{"call", "email", "thought", "other"}

var categories = [...]string{
	"Deep Work", "Meetings", "Communication", "Planning", "Research",
	"Design", "Operations", "Learning", "Admin", "Sales",
}

var subCategories = [...]string{
	"Coding", "Code Review", "Debugging", "Sprint Planning", "Customer Call",
	"Email Triage", "Slack", "Documentation", "Budget Review", "Roadmap Planning",
	"Hiring", "Interviewing", "Deploy", "Incident Response", "UI Design",
	"Spreadsheet Work", "Reading", "Writing", "Data Analysis", "1:1",
}

var activityTypes = [...]string{
	"coding", "writing", "reading", "meeting", "browsing", "designing",
	"emailing", "chatting", "reviewing", "presenting", "planning", "debugging",
}

var detectedActivities = [...]string{
	"Writing code in VS Code", "Reviewing a pull request on GitHub", "Editing a budget spreadsheet",
	"Reading email in Gmail", "Video call in Zoom", "Chatting in Slack", "Browsing documentation",
	"Drafting the product roadmap in Notion", "Editing slides in Keynote", "Debugging in the terminal",
	"Reviewing the deployment dashboard", "Writing a customer proposal", "Designing screens in Figma",
	"Triaging the backlog in Linear", "Reading a research paper", "Updating the CRM in Salesforce",
}

var firstNames = [...]string{
	"Sarah", "James", "Priya", "Miguel", "Aiko", "Liam", "Fatima", "Noah", "Elena", "Omar",
	"Grace", "Lucas", "Hannah", "Ravi", "Chloe", "Daniel", "Mei", "Jonas", "Amara", "Ethan",
	"Sofia", "Kwame", "Isabel", "Tom", "Nadia", "Felix", "Yuki", "Marco", "Leah", "Arjun",
}

var lastNames = [...]string{
	"Chen", "Patel", "Garcia", "Kim", "Nguyen", "Smith", "Okafor", "Müller", "Rossi", "Tanaka",
	"Johnson", "Silva", "Cohen", "Novak", "Haddad", "Larsen", "Dubois", "Walker", "Ito", "Mensah",
}

var companyPrefixes = [...]string{
	"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
	"Cyberdyne", "Tyrell", "Wonka", "Aperture", "Gringotts", "Oscorp", "Pied Piper", "Massive",
	"Blue Sun", "Monarch", "Dunder", "Nakatomi", "Prestige", "Sterling", "Bluth", "Northwind",
}

var companySuffixes = [...]string{
	"Labs", "Systems", "Corp", "Analytics", "Cloud", "Health", "Logistics", "Capital",
	"Robotics", "Media", "Foods", "Energy", "Software", "Partners", "Dynamics",
}

var industries = [...]string{
	"Software", "Healthcare", "Finance", "Retail", "Manufacturing", "Logistics",
	"Media", "Energy", "Education", "Consulting",
}

var companySizes = [...]string{"1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+"}

var roles = [...]string{
	"CEO", "CTO", "VP Engineering", "Product Manager", "Engineering Manager", "Designer",
	"Account Executive", "Customer Success Manager", "Data Scientist", "Recruiter",
	"Head of Finance", "Staff Engineer", "Procurement Lead", "Founder",
}

var topicHeads = [...]string{
	"Q1", "Q2", "Q3", "Q4", "2025", "Platform", "Mobile", "Enterprise", "Growth", "Billing",
	"Search", "Onboarding", "Infra", "Security", "Analytics", "Pricing", "Hiring", "Partner",
}

var topicTails = [...]string{
	"Roadmap", "Launch", "Migration", "Budget", "Redesign", "Rollout", "Research", "Hiring Plan",
	"Customer Program", "Deploy Pipeline", "Audit", "Integration", "Offsite", "Retrospective",
}

// Sentence parts. Verbs are {base, past, -ing}; nouns are {singular, plural}.
var subjects = [...]string{
	"I", "We", "The team", "The customer", "Engineering", "Marketing", "Our vendor",
	"The product group", "Finance", "Support", "The design team", "Leadership",
	"The platform team", "Sales", "Legal", "The new hire", "Our biggest customer", "Ops",
}

var verbs = [...][3]string{
	{"review", "reviewed", "reviewing"}, {"discuss", "discussed", "discussing"},
	{"update", "updated", "updating"}, {"prepare", "prepared", "preparing"},
	{"approve", "approved", "approving"}, {"deploy", "deployed", "deploying"},
	{"draft", "drafted", "drafting"}, {"schedule", "scheduled", "scheduling"},
	{"postpone", "postponed", "postponing"}, {"finalize", "finalized", "finalizing"},
	{"analyze", "analyzed", "analyzing"}, {"share", "shared", "sharing"},
	{"present", "presented", "presenting"}, {"plan", "planned", "planning"},
	{"test", "tested", "testing"}, {"fix", "fixed", "fixing"},
	{"migrate", "migrated", "migrating"}, {"negotiate", "negotiated", "negotiating"},
	{"summarize", "summarized", "summarizing"}, {"estimate", "estimated", "estimating"},
	{"budget", "budgeted", "budgeting"}, {"meet", "met", "meeting"},
	{"ship", "shipped", "shipping"}, {"document", "documented", "documenting"},
	{"benchmark", "benchmarked", "benchmarking"}, {"refactor", "refactored", "refactoring"},
	{"escalate", "escalated", "escalating"}, {"sign", "signed", "signing"},
	{"clarify", "clarified", "clarifying"}, {"prioritize", "prioritized", "prioritizing"},
}

var nouns = [...][2]string{
	{"meeting", "meetings"}, {"roadmap", "roadmaps"}, {"budget", "budgets"},
	{"customer", "customers"}, {"deployment", "deployments"}, {"release", "releases"},
	{"invoice", "invoices"}, {"proposal", "proposals"}, {"contract", "contracts"},
	{"dashboard", "dashboards"}, {"pipeline", "pipelines"}, {"sprint", "sprints"},
	{"backlog", "backlogs"}, {"design", "designs"}, {"report", "reports"},
	{"onboarding flow", "onboarding flows"}, {"metric", "metrics"}, {"forecast", "forecasts"},
	{"migration", "migrations"}, {"integration", "integrations"}, {"API", "APIs"},
	{"database", "databases"}, {"schema", "schemas"}, {"campaign", "campaigns"},
	{"pricing page", "pricing pages"}, {"demo", "demos"}, {"launch plan", "launch plans"},
	{"hiring plan", "hiring plans"}, {"test suite", "test suites"}, {"incident", "incidents"},
	{"spreadsheet", "spreadsheets"}, {"deck", "decks"}, {"deploy script", "deploy scripts"},
	{"feature flag", "feature flags"}, {"latency budget", "latency budgets"},
	{"customer interview", "customer interviews"}, {"renewal", "renewals"},
	{"security review", "security reviews"}, {"wireframe", "wireframes"}, {"ticket", "tickets"},
}

var adjectives = [...]string{
	"quarterly", "updated", "new", "draft", "final", "revised", "weekly", "critical",
	"annual", "shared", "internal", "external", "delayed", "urgent", "initial", "detailed",
	"customer-facing", "high-level", "long-term", "remaining", "staging", "production",
}

var phrases = [...]string{
	"for the Q3 launch", "with the customer", "before Friday", "during the weekly meeting",
	"after the deploy", "in the staging environment", "for next quarter", "with finance",
	"ahead of the board meeting", "for the enterprise customers", "by end of month",
	"in the roadmap review", "after lunch", "with the platform team", "over email",
	"on the budget call", "during standup", "for the migration", "in production",
	"with two customers", "against the latency budget", "for the pricing update",
}

var connectors = [...]string{
	"because", "so", "but", "and", "while", "although", "since", "after",
}

var fillers = [...]string{
	"so", "um", "okay", "right", "yeah", "I think", "basically", "you know", "anyway", "alright",
}

// Prefixes of summary achievements and blockers; a noun phrase follows.
var achievementsText = [...]string{
	"Shipped the", "Closed the", "Finished reviewing the", "Got sign-off on the",
	"Deployed the", "Resolved the blocker on the", "Drafted the",
}

var blockersText = [...]string{
	"Waiting on approval for the", "Still failing in staging:", "No owner yet for the",
	"Budget not confirmed for the", "Customer has not replied about the",
}

var uiTokens = [...]string{
	"File", "Edit", "View", "Window", "Help", "Search", "Share", "Comment", "Settings",
	"Inbox", "Drafts", "Sent", "New", "Save", "Cancel", "Submit", "Merge", "Approve",
	"Dashboard", "Overview", "Reports", "Filters", "Export", "Status:", "Owner:", "Due:",
	"Total", "Revenue", "Cost", "Budget", "Q1", "Q2", "Q3", "Q4", "Roadmap", "Deploy",
	"main", "staging", "PR", "#", "✓", "—", "|", "Customers", "Meeting", "Notes",
}

var fileExts = [...]struct{ typ, ext, mime string }{
	{"screenshot", "jpg", "image/jpeg"},
	{"image", "png", "image/png"},
	{"audio", "mp3", "audio/mpeg"},
	{"file", "pdf", "application/pdf"},
	{"document", "md", "text/markdown"},
	{"file", "txt", "text/plain"},
	{"video", "mp4", "video/mp4"},
}

// fileExtWeights matches fileExts.
var fileExtWeights = [...]float64{0.45, 0.15, 0.15, 0.10, 0.07, 0.05, 0.03}

// Package webui is Cairn's local web inspector, served by kvtool ui: pages
// to browse a store's collections and documents, build queries and see
// their plans, search with highlights, list, create, verify and restore
// backups, run the integrity check, and see the sizes per collection.
//
// # What it owns
//
// An HTTP server (Start) serving hand-written HTML, CSS and JavaScript
// embedded in the binary (assets/: no CDN, no build step) and a JSON API
// under /api/ that calls kv, and nothing else of Cairn's: every call into
// kv is in store.go. Reads are GET; changes (backup create, verify,
// restore, a merge patch with a revision check) are POST with a JSON body.
//
// # Access
//
// Start draws a random token (crypto/rand, 256 bits) and URL returns the
// address to open with it. The API needs the token, in an Authorization:
// Bearer header or the query string, or gets 401. The first visit of the
// page with ?token= gets a redirect that moves the token into the
// address's fragment, which the page keeps in its origin's storage (kept
// apart by port) and drops from the address bar, and a cookie (HttpOnly,
// SameSite=Strict) holding a second secret, which opens the page and its
// assets only: a cookie of 127.0.0.1 reaches every port of the machine,
// so any other local web server the browser visits receives it. A Host header that is not the listening address, localhost
// or (for a server listening on every address) an IP address gets 403, so
// that another site whose name resolves to 127.0.0.1 (DNS rebinding) reads
// nothing; a change whose Origin is not the inspector itself, or whose body
// is not JSON, gets 403 or 415. Responses forbid framing and any script,
// style or image not served by the inspector. kvtool listens on loopback
// unless --addr says otherwise, and warns when it does.
//
// # The store beside an application
//
// Cairn's store lock lets one process write or several read. The inspector
// holds it only while it serves: reads share one read-only handle, opened
// for a burst of requests and closed once none has used it for
// Config.Linger (2 s), or between two requests once it has been open that
// long (a page polling faster would otherwise hold it for good, and a
// writer's lock never comes); a backup, restore or patch waits for the reads in
// flight, closes that handle and opens the store for writing for that
// operation alone. So an application can open the store for writing at
// any moment, waiting at most for the request in flight and the linger;
// while an application holds it, requests fail fast with kv.ErrLocked
// (which names the process holding it) and the page says so and retries.
// Nothing the inspector reads changes data.db; the search index, which is
// derived data in its own directory, is brought up to date by a search.
//
// # Live updates
//
// The page polls /api/version, which names the state of data.db from its
// identity, size and modification time without opening the store, and
// reloads what it shows when that changes (storeVersion). Results that are
// costly to recompute (counts, a collection's sorted ids, stats) are kept
// for one settled version (memo); the first page's counts are computed as
// the server starts.
//
// # Caveats
//
//   - A check reads the whole store and holds it for as long as it takes
//     (about 12 s at 10,000 sessions): an application opening the store
//     meanwhile waits, and may time out.
//   - A document's large parts are listed and served by reading the whole
//     document on the server (kv has no read of one part); the browser
//     receives only the part asked for, an array a page at a time.
//   - Sorting a collection by a field sorts its ids once per version of the
//     store (an index serves it when one exists, else the metadata
//     summaries); fields the summary derives (a note's title, counts,
//     sizes) are not sortable, since they are not document fields.
//   - Anyone who has the URL can read and restore the store: it is a
//     password. Over a non-loopback address it travels unencrypted.
package webui

package webui

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cairnkv/cairn/kv"
)

//go:embed assets
var assets embed.FS

// DefaultAddr is where the inspector listens unless told otherwise:
// loopback only.
const DefaultAddr = "127.0.0.1:8765"

// DefaultLinger is how long the read-only handle stays open after the last
// request that used it (Config.Linger).
const DefaultLinger = 2 * time.Second

// Collection describes one collection of the store for the inspector.
type Collection struct {
	Name string `json:"name"`
	// Singleton: one document, addressed without an id (settings).
	Singleton bool `json:"singleton"`
}

// Config configures a Server. Dir and Collections are required.
type Config struct {
	// Dir is the store directory.
	Dir string
	// Collections lists the store's collections, in the order the pages
	// show them.
	Collections []Collection
	// Options returns the options of each open of the store: read-only for
	// the pages, writable for a backup, a restore or a patch. Nil: kv's
	// defaults with a 1 s lock timeout and no automatic backups. MustExist
	// is always set: the inspector never creates a store.
	Options func(readOnly bool) *kv.Options
	// Linger is how long the read-only handle stays open after the last
	// request that used it (0: DefaultLinger). The store's lock is held
	// meanwhile.
	Linger time.Duration
	// Advice, if set, says what to do about the problems a check found
	// (one line each), as kvtool check does.
	Advice func(problems []kv.Problem) []string
	// ErrorLog receives what no request is waiting for: a failure to close
	// an idle handle, errors of the HTTP server. Nil: the log package's
	// standard logger.
	ErrorLog *log.Logger
}

// Server is a running inspector: an HTTP server on a listener of its own,
// serving the embedded pages and their JSON API, with the token every
// request must carry.
type Server struct {
	dir    string
	colls  []Collection
	advice func([]kv.Problem) []string
	store  *store
	memo   memo
	scans  sync.Map // "collection/[-]field" sorted by a scan rather than an index (sortedPage)
	access *access
	url    string
	ln     net.Listener
	http   *http.Server
	done   chan error
	warm   chan struct{} // closed once the first page's counts are computed

	closeOnce sync.Once
	closeErr  error
}

// Start listens on addr (host:port; port 0 picks a free one) and serves
// the inspector of the store in cfg.Dir until Close. It refuses a
// directory with no store (an error wrapping kv.ErrNoStore) and an address
// it cannot listen on; a store that is locked by another process or
// damaged is no reason not to start (the pages say so, and a damaged store
// can be restored from them).
func Start(addr string, cfg Config) (*Server, error) {
	if cfg.Dir == "" || len(cfg.Collections) == 0 {
		return nil, errors.New("webui: Config needs Dir and Collections")
	}
	s := &Server{dir: cfg.Dir, colls: cfg.Collections, advice: cfg.Advice, done: make(chan error, 1)}
	opts := cfg.Options
	if opts == nil {
		opts = func(readOnly bool) *kv.Options {
			return &kv.Options{ReadOnly: readOnly, Timeout: time.Second, NoAutoBackup: true}
		}
	}
	logger := cfg.ErrorLog
	if logger == nil {
		logger = log.Default()
	}
	s.store = &store{
		dir: cfg.Dir,
		opts: func(readOnly bool) *kv.Options {
			o := opts(readOnly)
			o.ReadOnly, o.MustExist = readOnly, true
			return o
		},
		linger: cfg.Linger,
		onErr:  func(err error) { logger.Printf("webui: %v", err) },
	}
	if s.store.linger <= 0 {
		s.store.linger = DefaultLinger
	}
	if err := s.store.probe(); errors.Is(err, kv.ErrNoStore) {
		return nil, err
	}
	ln, err := s.listen(addr)
	if err != nil {
		return nil, errors.Join(err, s.store.close())
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// A request's body (a patch, at most MaxDocumentBytes) comes
		// over loopback in well under this: a body that stalls no longer
		// keeps a handler, and so a shutdown, waiting.
		ReadTimeout: 30 * time.Second,
		IdleTimeout: time.Minute,
		ErrorLog:    logger,
	}
	go func() {
		err := s.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	s.warm = make(chan struct{})
	go func() {
		defer close(s.warm)
		// The first page's counts, while the user opens the URL. An error
		// (the store is locked, say) is the first page's to report.
		_, _ = s.tallies()
	}()
	return s, nil
}

// listen listens on addr and draws the token its requests must carry.
func (s *Server) listen(addr string) (net.Listener, error) {
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("webui: %w", err)
	}
	if s.access, err = newAccess(token, ln.Addr(), addr); err != nil {
		_ = ln.Close() // the address error is the one to report
		return nil, err
	}
	s.url = fmt.Sprintf("http://%s/?token=%s", browseAddr(ln.Addr().(*net.TCPAddr), addr), token)
	return ln, nil
}

// browseAddr is the host:port a browser on this machine opens: the
// listening address, or loopback for a server listening on every address
// (IPv6 loopback only if the address asked for was an IPv6 one, such as
// [::]:8765; Go listens on both for 0.0.0.0 and for an empty host).
func browseAddr(a *net.TCPAddr, asked string) string {
	ip := a.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
		if h, _, err := net.SplitHostPort(asked); err == nil && strings.Contains(h, ":") {
			ip = net.IPv6loopback
		}
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(a.Port))
}

// URL is the address to open, with the access token.
func (s *Server) URL() string { return s.url }

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Loopback reports whether the server listens on a loopback address only.
func (s *Server) Loopback() bool { return s.ln.Addr().(*net.TCPAddr).IP.IsLoopback() }

// Wait blocks until the server stops and returns why, if not Close.
func (s *Server) Wait() error { return <-s.done }

// Close stops the server: it stops accepting, waits up to ctx for the
// requests in flight (a restore is never cut short by the request that
// asked for it), then closes the store. Later calls return what the first
// returned.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		err := s.http.Shutdown(ctx)
		if err != nil {
			err = errors.Join(err, s.http.Close())
		}
		<-s.warm
		s.closeErr = errors.Join(err, s.store.close())
	})
	return s.closeErr
}

// Handler returns the inspector's handler: the pages, the API under /api/,
// behind the access checks.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets") // a constant path inside the embedded tree
	files := http.FileServerFS(static)
	mux.Handle("GET /{$}", files)
	mux.Handle("GET /app.js", files)
	mux.Handle("GET /app.css", files)
	s.routes(mux)
	return s.access.wrap(mux)
}

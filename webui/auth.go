package webui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// newToken returns 32 random bytes in hex.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webui: random token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// access decides which requests reach the inspector.
//
//   - The Host header must name the listening address, localhost, or, for a
//     server listening on every address, an IP address: a page of another
//     site whose name was made to resolve to this machine (DNS rebinding)
//     is refused.
//   - The API (/api/) needs the token, in an Authorization: Bearer header
//     (the inspector's page sends it) or in the query string (a script).
//     A cookie never opens it: browsers send a cookie of 127.0.0.1 to
//     every port of 127.0.0.1 (cookies are not kept apart by port), so any
//     other local web server the user visits would receive it.
//   - The page and its assets need the token in the query string on the
//     first visit, answered with a cookie and a redirect to the page with
//     the token in the fragment, which the page keeps (in its origin's
//     storage, which is kept apart by port) and drops from the address
//     bar; then that cookie. The cookie holds a second secret, which opens
//     only the page and its assets (the same files for every store: no
//     data).
//   - A request that changes something (any method but GET and HEAD) must
//     come from the inspector's own page: its Origin must be this server,
//     and its body JSON.
type access struct {
	token  string // opens the API
	shell  string // the cookie's value: opens the page and its assets only
	cookie string // the cookie's name, after the port so that two inspectors do not overwrite each other's
	port   string
	host   string // the host --addr named, when it was a name
	ip     net.IP // the listening IP
}

func newAccess(token string, ln net.Addr, addr string) (*access, error) {
	tcp, ok := ln.(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("webui: listening on %s, not TCP", ln)
	}
	shell, err := newToken()
	if err != nil {
		return nil, err
	}
	a := &access{token: token, shell: shell, port: fmt.Sprint(tcp.Port), ip: tcp.IP}
	a.cookie = "cairn_ui_" + a.port
	if h, _, err := net.SplitHostPort(addr); err == nil && h != "" && net.ParseIP(h) == nil {
		a.host = strings.ToLower(h)
	}
	return a, nil
}

// allowedHost reports whether a request's Host header names this server.
func (a *access) allowedHost(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		// A browser leaves out the scheme's default port (80): a name
		// or IPv4 address without a colon, or a bracketed IPv6 address.
		if inner, ok := strings.CutPrefix(hostport, "["); ok && strings.HasSuffix(inner, "]") {
			host, port, err = strings.TrimSuffix(inner, "]"), "80", nil
		} else if !strings.Contains(hostport, ":") {
			host, port, err = hostport, "80", nil
		}
	}
	if err != nil || port != a.port {
		return false
	}
	host = strings.ToLower(host)
	if host == "localhost" || (a.host != "" && host == a.host) {
		return true
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return false // a name: DNS rebinding
	case a.ip.IsUnspecified():
		return true // listening on every address, reached by one of them
	default:
		return ip.IsLoopback() || ip.Equal(a.ip)
	}
}

func (a *access) validToken(t string) bool {
	return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(a.token)) == 1
}

// hasShellCookie reports whether one of the request's cookies of this
// inspector's name holds the page's secret: another local server can set
// a cookie of the same name for 127.0.0.1, and the browser then sends
// both, in no order the server can rely on.
func (a *access) hasShellCookie(r *http.Request) bool {
	for _, c := range r.CookiesNamed(a.cookie) {
		if subtle.ConstantTimeCompare([]byte(c.Value), []byte(a.shell)) == 1 {
			return true
		}
	}
	return false
}

// wrap refuses what access does not allow and sets the headers every
// response carries.
func (a *access) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if !a.allowedHost(r.Host) {
			http.Error(w, "kvtool ui: refused: Host "+fmt.Sprintf("%q", r.Host)+" is not this inspector's address", http.StatusForbidden)
			return
		}
		if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
			// r.URL.Query drops what it cannot decode: an id "ab%zz"
			// would read as no id at all.
			http.Error(w, "kvtool ui: malformed query string: "+err.Error(), http.StatusBadRequest)
			return
		}
		api := strings.HasPrefix(r.URL.Path, "/api/")
		switch t := r.URL.Query().Get("token"); {
		case t != "":
			if !a.validToken(t) {
				http.Error(w, "kvtool ui: wrong token: open the URL kvtool ui printed", http.StatusUnauthorized)
				return
			}
			if !api {
				http.SetCookie(w, &http.Cookie{Name: a.cookie, Value: a.shell, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
				if r.Method == http.MethodGet || r.Method == http.MethodHead {
					// The page takes the token from the fragment, which
					// no request carries, and drops it from the address.
					q := r.URL.Query()
					q.Del("token")
					u := url.URL{Path: r.URL.Path, RawQuery: q.Encode(), Fragment: "token=" + a.token}
					http.Redirect(w, r, u.String(), http.StatusSeeOther)
					return
				}
			}
		case api:
			bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || !a.validToken(bearer) {
				http.Error(w, "kvtool ui: the API needs the access token (Authorization: Bearer TOKEN, or ?token=TOKEN): open the URL kvtool ui printed", http.StatusUnauthorized)
				return
			}
		case !a.hasShellCookie(r):
			http.Error(w, "kvtool ui: this page needs its access token: open the URL kvtool ui printed (http://HOST:PORT/?token=...)", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if o := r.Header.Get("Origin"); o != "http://"+r.Host {
				http.Error(w, "kvtool ui: refused: a change must come from the inspector's own page (Origin "+fmt.Sprintf("%q", o)+")", http.StatusForbidden)
				return
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				http.Error(w, "kvtool ui: refused: a change must be sent as application/json", http.StatusUnsupportedMediaType)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

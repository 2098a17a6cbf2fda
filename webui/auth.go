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
//   - Every request must carry the token: in the query string on the first
//     visit (answered with a cookie and a redirect that drops it from the
//     address bar), then in that cookie (HttpOnly, SameSite=Strict, named
//     after the port so that two inspectors do not overwrite each other's).
//   - A request that changes something (any method but GET and HEAD) must
//     come from the inspector's own page: its Origin must be this server,
//     and its body JSON.
type access struct {
	token  string
	cookie string
	port   string
	host   string // the host --addr named, when it was a name
	ip     net.IP // the listening IP
}

func newAccess(token string, ln net.Addr, addr string) (*access, error) {
	tcp, ok := ln.(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("webui: listening on %s, not TCP", ln)
	}
	a := &access{token: token, port: fmt.Sprint(tcp.Port), ip: tcp.IP}
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

// wrap refuses what access does not allow and sets the headers every
// response carries.
func (a *access) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
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
		if t := r.URL.Query().Get("token"); t != "" {
			if !a.validToken(t) {
				http.Error(w, "kvtool ui: wrong token: open the URL kvtool ui printed", http.StatusUnauthorized)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: a.cookie, Value: a.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				q := r.URL.Query()
				q.Del("token")
				u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
				http.Redirect(w, r, u.String(), http.StatusSeeOther)
				return
			}
		} else if c, err := r.Cookie(a.cookie); err != nil || !a.validToken(c.Value) {
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

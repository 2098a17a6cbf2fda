package webui

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

// every route the server answers, with the method it takes.
var routes = [][2]string{
	{"GET", "/"}, {"GET", "/app.js"}, {"GET", "/app.css"},
	{"GET", "/api/version"}, {"GET", "/api/collections"}, {"GET", "/api/stats"},
	{"GET", "/api/list?c=sessions"}, {"GET", "/api/doc?c=notes&id=n1"}, {"GET", "/api/parts?c=sessions&id=s01"},
	{"GET", "/api/part?c=sessions&id=s01&field=screenshots"}, {"GET", "/api/attachment?id=a-png"},
	{"GET", "/api/query?c=sessions"}, {"GET", "/api/search?q=roadmap"}, {"GET", "/api/check"}, {"GET", "/api/backups"},
	{"POST", "/api/backups/create"}, {"POST", "/api/backups/verify"}, {"POST", "/api/backups/restore"}, {"POST", "/api/patch"},
	{"GET", "/api/nonexistent"},
}

// Without the token, nothing is served: no page, no asset, no API; a wrong
// token is refused too, and so is the page's cookie at the API.
func TestAccess_tokenRequired(t *testing.T) {
	srv := startTest(t, newTestStore(t), 0)
	c := newClient(t, srv)
	noAuth := func(r *http.Request) {
		r.Header.Del("Cookie")
		r.Header.Del("Authorization")
	}
	for _, rt := range routes {
		api := strings.HasPrefix(rt[1], "/api/")
		for name, mod := range map[string]func(r *http.Request){
			"nothing": noAuth,
			"wrong cookie": func(r *http.Request) {
				noAuth(r)
				r.Header.Set("Cookie", srv.access.cookie+"="+strings.Repeat("0", 64))
			},
			"the token as the cookie": func(r *http.Request) {
				noAuth(r)
				r.Header.Set("Cookie", srv.access.cookie+"="+c.token())
			},
			"wrong token": func(r *http.Request) {
				noAuth(r)
				q := r.URL.Query()
				q.Set("token", "x"+c.token()[1:])
				r.URL.RawQuery = q.Encode()
			},
			"wrong bearer": func(r *http.Request) {
				noAuth(r)
				r.Header.Set("Authorization", "Bearer x"+c.token()[1:])
			},
			"another port's cookie": func(r *http.Request) {
				noAuth(r)
				r.Header.Set("Cookie", "cairn_ui_1="+srv.access.shell)
			},
			// The page's cookie reaches every port of 127.0.0.1: another
			// local server that got it must not open the API with it (it
			// opens the page: see TestAccess_tokenToPage).
			"the page's cookie alone": func(r *http.Request) { r.Header.Del("Authorization") },
		} {
			if !api && name == "the page's cookie alone" {
				continue
			}
			w := c.do(rt[0], rt[1], "{}", mod)
			if w.Code != http.StatusUnauthorized {
				t.Errorf("%s %s with %s: status %d, want 401", rt[0], rt[1], name, w.Code)
			}
			if strings.Contains(w.Body.String(), c.token()) || strings.Contains(w.Body.String(), srv.access.shell) {
				t.Errorf("%s %s with %s: the answer holds a secret", rt[0], rt[1], name)
			}
		}
	}
}

// The first visit with ?token= gets an HttpOnly, SameSite=Strict cookie
// that opens the page (a secret of its own, not the token) and a redirect
// that moves the token into the fragment, for the page to keep; the API
// then answers the token in a header, or in the query string.
func TestAccess_tokenToPage(t *testing.T) {
	srv := startTest(t, newTestStore(t), 0)
	c := newClient(t, srv)
	w := c.do("GET", "/?token="+c.token()+"&x=1", "", func(r *http.Request) {
		r.Header.Del("Cookie")
		r.Header.Del("Authorization")
	})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("first visit: status %d, want 303", w.Code)
	}
	if loc := w.Header().Get("Location"); loc != "/?x=1#token="+c.token() {
		t.Errorf("redirect to %q: want the same page with the token in the fragment", loc)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies: %v", cookies)
	}
	k := cookies[0]
	if k.Value == c.token() || len(k.Value) != 64 || !k.HttpOnly || k.SameSite != http.SameSiteStrictMode || k.Path != "/" {
		t.Errorf("cookie %+v: want a secret other than the token, HttpOnly, SameSite=Strict, Path=/", k)
	}
	// Another local server may have set a cookie of the same name: the
	// browser sends both.
	page := c.do("GET", "/", "", func(r *http.Request) {
		r.Header.Del("Authorization")
		r.Header.Set("Cookie", k.Name+"=planted; "+k.Name+"="+k.Value)
	})
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "app.js") {
		t.Errorf("page with the cookie: %d %q", page.Code, page.Body.String())
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if page.Header().Get(h) == "" {
			t.Errorf("page without %s", h)
		}
	}
	for name, mod := range map[string]func(r *http.Request){
		"bearer": func(r *http.Request) { r.Header.Del("Cookie") },
		"query": func(r *http.Request) {
			r.Header.Del("Cookie")
			r.Header.Del("Authorization")
			r.URL.RawQuery = "token=" + c.token()
		},
	} {
		if w := c.do("GET", "/api/version", "", mod); w.Code != http.StatusOK {
			t.Errorf("API with the token by %s: %d %q", name, w.Code, w.Body.String())
		}
	}
}

// A Host header that is not this server's address is refused, token or
// not (DNS rebinding); localhost and loopback addresses are served.
func TestAccess_host(t *testing.T) {
	srv := startTest(t, newTestStore(t), 0)
	c := newClient(t, srv)
	_, port, _ := net.SplitHostPort(c.host())
	for host, want := range map[string]int{
		"127.0.0.1:" + port:              http.StatusOK,
		"localhost:" + port:              http.StatusOK,
		"LocalHost:" + port:              http.StatusOK,
		"[::1]:" + port:                  http.StatusOK,
		"evil.example:" + port:           http.StatusForbidden,
		"127.0.0.1.nip.io:" + port:       http.StatusForbidden,
		"127.0.0.1:1" + port:             http.StatusForbidden,
		"127.0.0.1":                      http.StatusForbidden,
		"192.0.2.7:" + port:              http.StatusForbidden, // another machine's address
		"localhost.evil.example:" + port: http.StatusForbidden,
		"":                               http.StatusForbidden,
	} {
		w := c.do("GET", "/api/version", "", func(r *http.Request) { r.Host = host })
		if w.Code != want {
			t.Errorf("Host %q: status %d, want %d", host, w.Code, want)
		}
	}
}

// A server listening on every address takes any IP address (how other
// machines reach it) but still no name other than localhost or the one
// --addr gave.
func TestAccess_hostAnyAddress(t *testing.T) {
	a, err := newAccess("t", &net.TCPAddr{IP: net.IPv4zero, Port: 8765}, "0.0.0.0:8765")
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{"192.0.2.7:8765": true, "localhost:8765": true, "evil.example:8765": false, "192.0.2.7:80": false} {
		if got := a.allowedHost(host); got != want {
			t.Errorf("listening on 0.0.0.0: Host %q allowed %v, want %v", host, got, want)
		}
	}
	// On port 80 a browser sends the Host without its port.
	a, err = newAccess("t", &net.TCPAddr{IP: net.IPv6loopback, Port: 80}, "[::1]:80")
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{"localhost": true, "[::1]": true, "[::1]:80": true, "127.0.0.1": true, "evil.example": false, "[::1]:8080": false, "::1": false} {
		if got := a.allowedHost(host); got != want {
			t.Errorf("listening on port 80: Host %q allowed %v, want %v", host, got, want)
		}
	}
	a, err = newAccess("t", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 8765}, "box.lan:8765")
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{"box.lan:8765": true, "BOX.LAN:8765": true, "192.0.2.7:8765": true, "192.0.2.8:8765": false, "other.lan:8765": false} {
		if got := a.allowedHost(host); got != want {
			t.Errorf("listening on box.lan: Host %q allowed %v, want %v", host, got, want)
		}
	}
}

// A change must come from the inspector's own page (its Origin) as JSON;
// a form posted by another site, or a request without Origin, is refused
// before it reaches the store.
func TestAccess_origin(t *testing.T) {
	dir := newTestStore(t)
	srv := startTest(t, dir, 0)
	c := newClient(t, srv)
	before := backupCount(t, c)
	for name, tc := range map[string]struct {
		mod  func(r *http.Request)
		want int
	}{
		"no Origin":      {func(r *http.Request) { r.Header.Del("Origin") }, http.StatusForbidden},
		"another Origin": {func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }, http.StatusForbidden},
		"null Origin":    {func(r *http.Request) { r.Header.Set("Origin", "null") }, http.StatusForbidden},
		"another port":   {func(r *http.Request) { r.Header.Set("Origin", "http://127.0.0.1:1") }, http.StatusForbidden},
		"a form":         {func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, http.StatusUnsupportedMediaType},
		"text/plain":     {func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, http.StatusUnsupportedMediaType},
	} {
		w := c.do("POST", "/api/backups/create", "{}", tc.mod)
		if w.Code != tc.want {
			t.Errorf("%s: status %d, want %d (%s)", name, w.Code, tc.want, w.Body.String())
		}
	}
	// A body that is not JSON, or cut off, takes no backup either.
	for _, body := range []string{"this is not json", `{"`, "{} {}"} {
		if w := c.do("POST", "/api/backups/create", body, nil); w.Code != http.StatusBadRequest {
			t.Errorf("body %q: status %d, want 400 (%s)", body, w.Code, w.Body.String())
		}
	}
	if n := backupCount(t, c); n != before {
		t.Errorf("refused requests took %d backup(s)", n-before)
	}
	c.post("/api/backups/create", map[string]any{}, http.StatusOK, nil)
	if n := backupCount(t, c); n != before+1 {
		t.Errorf("an allowed request took %d backup(s), want 1", n-before)
	}
}

func backupCount(t *testing.T, c *client) int {
	var out struct{ Backups []any }
	c.get("/api/backups", http.StatusOK, &out)
	return len(out.Backups)
}

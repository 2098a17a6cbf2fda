package replica

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// ConnectOptions say how to reach the NATS server besides its URL.
type ConnectOptions struct {
	// CredsFile is a NATS credentials file (JWT and nkey seed).
	CredsFile string
	// Name is the client name the server shows.
	Name string
	// Timeout bounds the first connection (default 5s).
	Timeout time.Duration
	// MaxReconnects is how many times a lost connection is tried again
	// before the connection is closed for good (0: forever, as a
	// continuous sync wants). A command that must end, such as a sync
	// that returns when caught up, sets it and ends its work when the
	// connection closes (nats.Conn.SetClosedHandler).
	MaxReconnects int
	// WaitForServer makes a first connection that fails a lost one:
	// Connect returns at once, and the connection is tried again as
	// MaxReconnects says (a sync started while the server is
	// unreachable waits for it instead of failing).
	WaitForServer bool
}

// Connect connects to the NATS server at rawURL. User and password, or a
// token, may be given in the URL (nats://user:pass@host:4222,
// nats://token@host:4222); tls:// asks for TLS. Errors name the URL with
// its credentials scrubbed (Scrub), never the credentials.
func Connect(rawURL string, o *ConnectOptions) (*nats.Conn, error) {
	if o == nil {
		o = &ConnectOptions{}
	}
	reconnects := -1
	if o.MaxReconnects > 0 {
		reconnects = o.MaxReconnects
	}
	opts := []nats.Option{nats.MaxReconnects(reconnects), nats.ReconnectWait(250 * time.Millisecond)}
	if o.Timeout > 0 {
		opts = append(opts, nats.Timeout(o.Timeout))
	}
	if o.Name != "" {
		opts = append(opts, nats.Name(o.Name))
	}
	if o.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(o.CredsFile))
	}
	nc, err := nats.Connect(rawURL, opts...)
	if errors.Is(err, nats.ErrNoServers) && o.WaitForServer {
		// Unreachable, not refusing: wait for it as for a lost
		// connection (a refusal is only told by the first try).
		nc, err = nats.Connect(rawURL, append(opts, nats.RetryOnFailedConnect(true))...)
	}
	if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked) {
		return nil, fmt.Errorf("%w: connect to %s: %s (check the user and password or token in the URL, or the credentials file)", ErrAuth, Scrub(rawURL), scrubText(err.Error(), rawURL))
	}
	if err != nil {
		return nil, fmt.Errorf("replica: connect to %s: %s", Scrub(rawURL), scrubText(err.Error(), rawURL))
	}
	return nc, nil
}

// Scrub returns the URL (or comma-separated URLs) with any user, password
// or token replaced by "***".
func Scrub(rawURL string) string {
	parts := strings.Split(rawURL, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.User == nil {
			if at := strings.LastIndex(p, "@"); at >= 0 {
				// Unparsable but holding credentials: drop everything before @.
				scheme := ""
				if k := strings.Index(p, "://"); k >= 0 && k < at {
					scheme = p[:k+3]
				}
				parts[i] = scheme + "***@" + p[at+1:]
			}
			continue
		}
		u.User = url.User("***")
		parts[i] = strings.Replace(u.String(), "%2A%2A%2A@", "***@", 1)
	}
	return strings.Join(parts, ",")
}

// scrubText removes the credentials of rawURL from an error text.
func scrubText(s, rawURL string) string {
	for _, p := range strings.Split(rawURL, ",") {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.User == nil {
			continue
		}
		if name := u.User.Username(); name != "" {
			s = strings.ReplaceAll(s, name, "***")
		}
		if pw, ok := u.User.Password(); ok && pw != "" {
			s = strings.ReplaceAll(s, pw, "***")
		}
	}
	return s
}

// Conn is a NATS connection (so that replica's users need not import NATS).
type Conn = nats.Conn

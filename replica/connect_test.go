package replica

import "testing"

func TestScrub(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://alice:s3cret@host:4222", "nats://***@host:4222"},
		{"nats://tok3n@host:4222", "nats://***@host:4222"},
		{"nats://a:b@h1:4222,nats://h2:4222", "nats://***@h1:4222,nats://h2:4222"},
		{"nats://a:b%zz@h:1", "nats://***@h:1"},
	} {
		got := Scrub(c.in)
		if got != c.want {
			t.Errorf("Scrub(%q) = %q, want %q", c.in, got, c.want)
		}
		for _, secret := range []string{"s3cret", "tok3n", "alice"} {
			if contains(got, secret) {
				t.Errorf("Scrub(%q) = %q still holds %q", c.in, got, secret)
			}
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

package replica

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecrypt: decrypt of any bytes returns ErrDecrypt or the plaintext,
// never panics, and never accepts a tampered stream.
func FuzzDecrypt(f *testing.F) {
	old := kdf
	kdf.memKiB, kdf.passes, kdf.threads = 8, 1, 1
	defer func() { kdf = old }()
	var sealed bytes.Buffer
	if err := encrypt(&sealed, bytes.NewReader([]byte("some backup bytes")), "pw"); err != nil {
		f.Fatal(err)
	}
	f.Add(sealed.Bytes())
	f.Add([]byte(encMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var out bytes.Buffer
		err := decrypt(&out, bytes.NewReader(b), "pw")
		// Only an untouched sealed stream opens (each fuzz worker seals
		// its own with a fresh salt, so compare what it holds).
		if err == nil && (out.String() != "some backup bytes" || len(b) != sealed.Len()) {
			t.Fatalf("a stream of %d bytes that is not a sealed one was accepted: %q", len(b), out.String())
		}
		if err != nil && !errors.Is(err, ErrDecrypt) {
			t.Fatalf("decrypt error %v does not wrap ErrDecrypt", err)
		}
	})
}

// FuzzDecodeMessage: a message from the stream either decodes and passes
// checkMessage, or is refused with an error; never a panic.
func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte(`{"device":"a","n":1,"coll":"notes","id":"n1","fields":{"title":{"v":"x","c":{"t":1,"d":"a"},"base":{"t":0,"d":""}}}}`))
	f.Add([]byte(`{"device":"a","n":2,"coll":"notes","id":"n1","del":{"t":5,"d":"a"},"epoch":{"t":1,"d":"b"}}`))
	f.Add([]byte(`{"device":"a","n":3,"coll":"replica_state","id":"state","fields":{}}`))
	r := &Replica{opts: Options{Group: "default"}, device: "me"}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		if err := r.checkMessage(m, r.subjectPrefix()+m.Device); err == nil {
			if m.ID == "" || !synced(m.Coll) || (m.Del == nil && m.Fields == nil) {
				t.Fatalf("checkMessage accepted %+v", m)
			}
		}
	})
}

// FuzzOpenSealed: a sealed message or attachment content from the server
// either opens to what was sealed (the seeds are the only genuine seals),
// or is refused with ErrDecrypt; never a panic, never other bytes.
func FuzzOpenSealed(f *testing.F) {
	s, err := newSealer("pw", &groupMeta{Scheme: syncScheme, Salt: make([]byte, 16), MemKiB: 8, Passes: 1, Threads: 1})
	if err != nil {
		f.Fatal(err)
	}
	msg, err := s.seal([]byte(`{"device":"a"}`), []byte("subj"))
	if err != nil {
		f.Fatal(err)
	}
	var blob bytes.Buffer
	if err := s.sealBlob(&blob, bytes.NewReader([]byte("attachment bytes"))); err != nil {
		f.Fatal(err)
	}
	f.Add(msg)
	f.Add(blob.Bytes())
	f.Add([]byte(`{"device":"a"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		plain, err := s.open(b, []byte("subj"))
		// Only a genuine seal opens: a fuzz worker seals its own seeds
		// again (another nonce, the same key), so compare the plaintext.
		if err == nil && string(plain) != `{"device":"a"}` {
			t.Fatalf("accepted %d bytes as %q", len(b), plain)
		}
		if err != nil && !errors.Is(err, ErrDecrypt) {
			t.Fatalf("open: %v does not wrap ErrDecrypt", err)
		}
		var out bytes.Buffer
		err = s.openBlob(&out, bytes.NewReader(b))
		if err == nil && out.String() != "attachment bytes" {
			t.Fatalf("accepted %d bytes as a blob %q", len(b), out.String())
		}
		if err != nil && !errors.Is(err, ErrDecrypt) {
			t.Fatalf("openBlob: %v does not wrap ErrDecrypt", err)
		}
	})
}

package replica

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// cheapKDF lowers the Argon2id cost for the test (the cost is read back
// from each header, so decryption follows).
func cheapKDF(t *testing.T) {
	old := kdf
	kdf.memKiB, kdf.passes, kdf.threads = 64, 1, 1
	t.Cleanup(func() { kdf = old })
}

func TestEncrypt_roundTripAndTampering(t *testing.T) {
	cheapKDF(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, encChunk - 1, encChunk, encChunk + 1, 2*encChunk + 7} {
		plain := make([]byte, size)
		for i := range plain {
			plain[i] = byte(rng.IntN(256))
		}
		var sealed bytes.Buffer
		if err := encrypt(&sealed, bytes.NewReader(plain), "correct horse"); err != nil {
			t.Fatal(err)
		}
		if size > 64 && bytes.Contains(sealed.Bytes(), plain[:64]) {
			t.Fatalf("size %d: plaintext visible in the ciphertext", size)
		}
		var back bytes.Buffer
		if err := decrypt(&back, bytes.NewReader(sealed.Bytes()), "correct horse"); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(back.Bytes(), plain) {
			t.Fatalf("size %d: round trip differs", size)
		}
		if size != encChunk+1 {
			continue
		}
		bad := []struct {
			name string
			data []byte
			pass string
		}{
			{"wrong passphrase", sealed.Bytes(), "wrong"},
			{"flipped byte", flip(sealed.Bytes(), sealed.Len()/2), "correct horse"},
			{"last chunk dropped", sealed.Bytes()[:hdrLen+4+encChunk+16], "correct horse"},
			{"cut short", sealed.Bytes()[:sealed.Len()-3], "correct horse"},
			{"trailing bytes", append(bytes.Clone(sealed.Bytes()), 0), "correct horse"},
			{"not encrypted", plain, "correct horse"},
		}
		for _, c := range bad {
			if err := decrypt(&bytes.Buffer{}, bytes.NewReader(c.data), c.pass); !errors.Is(err, ErrDecrypt) {
				t.Errorf("%s: %v, want ErrDecrypt", c.name, err)
			}
		}
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x40
	return c
}

// failingReader returns r's bytes up to n, then err.
type failingReader struct {
	r   *bytes.Reader
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// TestDecrypt_readErrorIsNotDamage checks that a read that fails (a
// timeout, a lost connection, the object store's digest check) is
// reported as such, not as a wrong passphrase or damaged data: a pull that
// timed out under load said "cannot decrypt ... cut off".
func TestDecrypt_readErrorIsNotDamage(t *testing.T) {
	cheapKDF(t)
	var sealed bytes.Buffer
	if err := encrypt(&sealed, bytes.NewReader(bytes.Repeat([]byte("x"), 3*encChunk)), "pw"); err != nil {
		t.Fatal(err)
	}
	timeout := errors.New("nats: timeout")
	for _, at := range []int{10, hdrLen + 2, hdrLen + 4 + 100, sealed.Len() - 3} {
		r := &failingReader{r: bytes.NewReader(sealed.Bytes()), n: at, err: timeout}
		err := decrypt(&bytes.Buffer{}, r, "pw")
		if !errors.Is(err, timeout) || errors.Is(err, ErrDecrypt) {
			t.Errorf("read failing after %d bytes: %v, want the read's error and not ErrDecrypt", at, err)
		}
	}
}

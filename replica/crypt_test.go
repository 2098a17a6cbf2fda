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

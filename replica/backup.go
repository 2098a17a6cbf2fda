package replica

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cairnkv/cairn/internal/fsutil"
	"github.com/cairnkv/cairn/kv"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BackupBucket is the JetStream object store that holds pushed backups:
// <name>.db and <name>.json (the manifest) per backup.
const BackupBucket = "CAIRN_backups"

// backupNameLayout is the layout of backup names (snapshot.Name).
const backupNameLayout = "20060102T150405.000000000Z"

func checkBackupName(name string) error {
	t, err := time.Parse(backupNameLayout, name)
	if err != nil || t.UTC().Format(backupNameLayout) != name {
		return fmt.Errorf("%w: backup name %q (want a name like 20261126T010203.123456789Z from backup list)", ErrInvalidName, name)
	}
	return nil
}

func backupStore(ctx context.Context, nc *nats.Conn, create bool) (jetstream.ObjectStore, error) {
	obs, _, err := backupStoreJS(ctx, nc, create)
	return obs, err
}

func backupStoreJS(ctx context.Context, nc *nats.Conn, create bool) (jetstream.ObjectStore, jetstream.JetStream, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, nil, err
	}
	var obs jetstream.ObjectStore
	if create {
		obs, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: BackupBucket, Storage: jetstream.FileStorage})
	} else {
		obs, err = js.ObjectStore(ctx, BackupBucket)
	}
	return obs, js, err
}

// checkBackupObject fails with ErrBlobIncomplete when the object store
// cannot deliver every chunk of object name: a chunk damaged in the
// server's files is not delivered (though the stream's state may still
// count it), and reading the object would wait for it until a timeout. It
// reads each chunk's message by subject, one request a chunk.
func checkBackupObject(ctx context.Context, js jetstream.JetStream, obs jetstream.ObjectStore, backup, name string) error {
	info, err := obs.GetInfo(ctx, name)
	if err != nil {
		return err
	}
	st, err := js.Stream(ctx, "OBJ_"+BackupBucket)
	if err != nil {
		return fmt.Errorf("replica: object store %s: %w", BackupBucket, err)
	}
	subj := fmt.Sprintf("$O.%s.C.%s", BackupBucket, info.NUID)
	got, seq := uint32(0), uint64(1)
	for got < info.Chunks {
		m, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subj))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return fmt.Errorf("replica: object store %s: %w", BackupBucket, err)
		}
		got, seq = got+1, m.Sequence+1
	}
	if got < info.Chunks {
		return fmt.Errorf("%w: backup %s: %s in %s lacks some of its %d chunks (damaged on the server, or an interrupted push): push the backup again from a store that has it", ErrBlobIncomplete, backup, name, BackupBucket, info.Chunks)
	}
	return nil
}

// digestOf is JetStream's form of a SHA-256 given in hex.
func digestOf(hexSum string) (string, error) {
	b, err := hex.DecodeString(hexSum)
	if err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("%w: %q is not a SHA-256", ErrBlobMismatch, hexSum)
	}
	return "SHA-256=" + base64.URLEncoding.EncodeToString(b), nil
}

// BackupOptions configure PushBackup and PullBackup.
type BackupOptions struct {
	// Passphrase, when set, encrypts the pushed data file end to end
	// (Argon2id, XChaCha20-Poly1305): the server sees only ciphertext. The
	// manifest (name, time, counts, SHA-256 of the plaintext) stays
	// readable so that backup list works without it. PullBackup needs the
	// same passphrase.
	Passphrase string
}

// PushBackup verifies the local backup name, uploads its data file and
// manifest to the object store, and checks that the stored object's
// SHA-256 is the one computed while uploading (the manifest's, unless
// encrypted). It returns the manifest.
func PushBackup(ctx context.Context, db *kv.DB, nc *nats.Conn, name string, opts *BackupOptions) (kv.Manifest, error) {
	if opts == nil {
		opts = &BackupOptions{}
	}
	if err := checkBackupName(name); err != nil {
		return kv.Manifest{}, err
	}
	m, problems, err := db.VerifyBackup(ctx, name)
	if err != nil {
		return kv.Manifest{}, err
	}
	if len(problems) > 0 {
		return kv.Manifest{}, fmt.Errorf("%w: backup %s: %s", kv.ErrBackupInvalid, name, problems[0])
	}
	want, err := digestOf(m.SHA256)
	if err != nil {
		return kv.Manifest{}, err
	}
	obs, err := backupStore(ctx, nc, true)
	if err != nil {
		return kv.Manifest{}, fmt.Errorf("replica: object store %s: %w", BackupBucket, err)
	}
	dir := filepath.Join(db.Dir(), kv.BackupsDir)
	f, err := os.Open(filepath.Join(dir, name+".db"))
	if err != nil {
		return kv.Manifest{}, err
	}
	defer f.Close()
	meta := jetstream.ObjectMeta{Name: name + ".db", Metadata: map[string]string{"sha256": m.SHA256}}
	var src io.Reader = f
	sum := sha256.New()
	if opts.Passphrase != "" {
		meta.Metadata["encryption"] = encScheme
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(encrypt(pw, f, opts.Passphrase)) }()
		defer pr.Close()
		src = pr
	}
	info, err := obs.Put(ctx, meta, io.TeeReader(src, sum))
	if err != nil {
		return kv.Manifest{}, fmt.Errorf("replica: upload %s.db: %w", name, err)
	}
	if opts.Passphrase != "" {
		want = "SHA-256=" + base64.URLEncoding.EncodeToString(sum.Sum(nil))
	}
	if info.Digest != want {
		return kv.Manifest{}, fmt.Errorf("%w: backup %s stored with digest %s, its manifest says %s", ErrBlobMismatch, name, info.Digest, want)
	}
	manifest, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		return kv.Manifest{}, err
	}
	if _, err := obs.PutBytes(ctx, name+".json", manifest); err != nil {
		return kv.Manifest{}, fmt.Errorf("replica: upload %s.json: %w", name, err)
	}
	return m, nil
}

// ListBackups returns the manifests of the backups in the object store,
// oldest first (an empty list when there is no object store yet).
func ListBackups(ctx context.Context, nc *nats.Conn) ([]kv.Manifest, error) {
	out := []kv.Manifest{}
	obs, err := backupStore(ctx, nc, false)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("replica: object store %s: %w", BackupBucket, err)
	}
	infos, err := obs.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, in := range infos {
		have[in.Name] = true
	}
	for _, in := range infos {
		name, ok := strings.CutSuffix(in.Name, ".json")
		if !ok || !have[name+".db"] {
			continue
		}
		b, err := obs.GetBytes(ctx, in.Name)
		if err != nil {
			return nil, fmt.Errorf("replica: read %s: %w", in.Name, err)
		}
		var m kv.Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("replica: manifest %s in %s does not parse: %w", in.Name, BackupBucket, err)
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// PullBackup downloads backup name from the object store into the store's
// backups directory and verifies it there (SHA-256 against its manifest
// while downloading, then kv.DB.VerifyBackup); a backup that fails is
// removed again and the error says why. A copy of name already there is
// replaced only when it fails verification. kv.DB.Restore restores it.
func PullBackup(ctx context.Context, db *kv.DB, nc *nats.Conn, name string, opts *BackupOptions) (kv.Manifest, error) {
	if opts == nil {
		opts = &BackupOptions{}
	}
	if err := checkBackupName(name); err != nil {
		return kv.Manifest{}, err
	}
	obs, js, err := backupStoreJS(ctx, nc, false)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return kv.Manifest{}, fmt.Errorf("%w: %s (no backups were pushed)", ErrBackupNotFound, name)
	}
	if err != nil {
		return kv.Manifest{}, fmt.Errorf("replica: object store %s: %w", BackupBucket, err)
	}
	err = checkBackupObject(ctx, js, obs, name, name+".json")
	if err == nil {
		err = checkBackupObject(ctx, js, obs, name, name+".db")
	}
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return kv.Manifest{}, fmt.Errorf("%w: %s", ErrBackupNotFound, name)
	}
	if err != nil {
		return kv.Manifest{}, err
	}
	mb, err := obs.GetBytes(ctx, name+".json")
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return kv.Manifest{}, fmt.Errorf("%w: %s", ErrBackupNotFound, name)
	}
	if err != nil {
		return kv.Manifest{}, err
	}
	var m kv.Manifest
	if err := json.Unmarshal(mb, &m); err != nil || m.Name != name {
		return kv.Manifest{}, fmt.Errorf("replica: manifest of %s in %s is damaged (%v)", name, BackupBucket, err)
	}
	dir := filepath.Join(db.Dir(), kv.BackupsDir)
	// A copy here that fails verification is replaced (the download
	// replaces it only once it arrived whole); a good one is kept.
	damagedHere := false
	if _, problems, err := db.VerifyBackup(ctx, name); err == nil && len(problems) > 0 {
		damagedHere = true
	}
	// Held until the manifest is written: a rotation meanwhile would take
	// the data file without its manifest for debris.
	unlock, err := db.LockBackups()
	if err != nil {
		return kv.Manifest{}, err
	}
	defer unlock()
	dbPath, err := fsutil.Within(dir, name+".db")
	if err != nil {
		return kv.Manifest{}, err
	}
	if _, err := os.Stat(dbPath); err == nil && !damagedHere {
		return kv.Manifest{}, fmt.Errorf("replica: backup %s is already in %s", name, dir)
	}
	// A read that fails (a timeout under load, a dropped connection) is
	// tried again, twice; what the data says (damaged, wrong passphrase)
	// is not.
	for attempt := 1; ; attempt++ {
		err = pullData(ctx, obs, name, dbPath, m.SHA256, opts.Passphrase)
		if err == nil || attempt == 3 || ctx.Err() != nil || errors.Is(err, ErrDecrypt) || errors.Is(err, ErrBlobMismatch) || errors.As(err, new(notRetried)) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
		}
	}
	if err != nil {
		return kv.Manifest{}, err
	}
	if err := fsutil.WriteFile(filepath.Join(dir, name+".json"), mb, 0o600); err != nil {
		return kv.Manifest{}, errors.Join(err, os.Remove(dbPath))
	}
	got, problems, err := db.VerifyBackup(ctx, name)
	if err == nil && len(problems) > 0 {
		err = fmt.Errorf("%w: pulled backup %s: %s", kv.ErrBackupInvalid, name, problems[0])
	}
	if err != nil {
		return kv.Manifest{}, errors.Join(err, os.Remove(dbPath), os.Remove(filepath.Join(dir, name+".json")))
	}
	return got, nil
}

// notRetried marks a pull's error that another attempt would not change;
// its message is the error's own.
type notRetried struct{ error }

func (e notRetried) Unwrap() error { return e.error }

// downloadReader wraps the reader of a pulled data file (tests make it
// fail).
var downloadReader = func(r io.Reader) io.Reader { return r }

// pullData downloads the data file of backup name into dbPath, decrypting
// it with pass if it was pushed encrypted, and checks its SHA-256 against
// sum (the manifest's).
func pullData(ctx context.Context, obs jetstream.ObjectStore, name, dbPath, sum, pass string) error {
	obj, err := obs.Get(ctx, name+".db")
	if err != nil {
		return fmt.Errorf("replica: download %s.db: %w", name, err)
	}
	defer obj.Close()
	oi, err := obj.Info()
	if err != nil {
		return err
	}
	encrypted := oi.Metadata["encryption"] != ""
	if encrypted && oi.Metadata["encryption"] != encScheme {
		return notRetried{fmt.Errorf("replica: backup %s is encrypted with %q, which this Cairn does not know", name, oi.Metadata["encryption"])}
	}
	if encrypted && pass == "" {
		return fmt.Errorf("%w: backup %s is encrypted: a passphrase is needed", ErrDecrypt, name)
	}
	return fsutil.WriteFileFunc(dbPath, 0o600, func(w io.Writer) error {
		h := sha256.New()
		var err error
		src := downloadReader(obj)
		if encrypted {
			err = decrypt(io.MultiWriter(w, h), src, pass)
		} else {
			_, err = io.Copy(io.MultiWriter(w, h), src)
		}
		if errors.Is(err, jetstream.ErrDigestMismatch) {
			return fmt.Errorf("%w: backup %s: %s.db in %s: %w", ErrBlobMismatch, name, name, BackupBucket, err)
		}
		if err != nil {
			return fmt.Errorf("replica: download %s.db: %w", name, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != sum {
			return fmt.Errorf("%w: backup %s arrived as %s, its manifest says %s", ErrBlobMismatch, name, got, sum)
		}
		return nil
	})
}

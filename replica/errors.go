package replica

import "errors"

var (
	// ErrInvalidName is returned for a group or device name that is not
	// 1 to 64 characters of [A-Za-z0-9_-] (they become NATS subjects and
	// stream names).
	ErrInvalidName = errors.New("replica: invalid name")
	// ErrBadMessage is returned when a message on the stream does not
	// decode; the error names its stream sequence.
	ErrBadMessage = errors.New("replica: bad message")
	// ErrBlobMismatch is returned when an attachment's or backup's bytes
	// do not hash to the SHA-256 they were announced with.
	ErrBlobMismatch = errors.New("replica: content does not match its SHA-256")
	// ErrBackupNotFound is returned by PullBackup for a name the object
	// store does not hold.
	ErrBackupNotFound = errors.New("replica: no such backup in the object store")
	// ErrEncryptionMismatch is returned when a device with a passphrase
	// joins a group that is not encrypted (or holds unencrypted changes),
	// or meets an encrypted message in a group that is not encrypted. A
	// device without a passphrase in an encrypted group gets ErrDecrypt.
	ErrEncryptionMismatch = errors.New("replica: the group's encryption does not match this device's")
	// ErrBlobIncomplete is returned when the object store names an
	// attachment's content but lacks some of its chunks (an upload that
	// was interrupted); the sync that meets it can be retried once a
	// device holding the content has uploaded it again. PullBackup
	// returns it for a backup whose chunks the server cannot all deliver
	// (damaged in its files, or an interrupted push).
	ErrBlobIncomplete = errors.New("replica: incomplete object in the object store")
	// ErrClockAhead is returned by a sync that met a message whose
	// clock is more than a day ahead of this device's wall clock (a
	// peer's clock is wrong, or the message is forged): it is not applied,
	// and the error names the message's stream sequence and device. A
	// later sync applies it once the clock is within a day.
	ErrClockAhead = errors.New("replica: a message's clock is too far ahead")
	// ErrAuth is returned by Connect when the NATS server refuses the
	// credentials (user and password, token, or credentials file); the
	// error names the server with the credentials scrubbed.
	ErrAuth = errors.New("replica: the NATS server refused the credentials")
)

// Package jsonx is Cairn's one reader of JSON text that comes from outside
// (kvtool put, patch and import, the export file, kv's JSON entry points).
// It keeps input exactly or refuses it; it never changes it silently.
//
// # Strict
//
// The grammar is RFC 8259's, and nothing else is accepted: no comments,
// trailing commas, single quotes, NaN, leading zeros or '+'. Beyond the
// grammar, and unlike encoding/json, it refuses:
//
//   - bytes that are not UTF-8 anywhere in the text (encoding/json replaces
//     them with U+FFFD inside strings);
//   - an escaped surrogate that is not half of a pair ("\ud800",
//     "\udc00x"), which no UTF-8 string can hold (encoding/json replaces it
//     with U+FFFD, so two different ids could become one);
//   - an object with the same member name twice (encoding/json keeps the
//     last one).
//
// Every refusal is an *Error naming the byte offset, the line and column,
// and the JSON path of the value (such as $.sessions[3].title) where it
// was found.
//
// # Exact
//
// Numbers are handed over as their literal text, checked against the
// grammar: Options.Number decides what they become (json.Number by
// default), so no digit is lost before the value model sees it.
//
// # Streaming and bounded
//
// A Decoder reads an io.Reader through a fixed 64 KiB buffer, and walks
// the containers of a large input one element at a time (OpenObject,
// OpenArray, Next, Key), decoding each element with Value. Options.MaxBytes
// bounds one Value by its size as compact JSON (whitespace aside, escapes
// decoded: never more than encoding/json's compact form) and
// Options.MaxValues the values it holds: a value over either limit is
// refused as soon as the limit is passed, before more of it is decoded,
// so a 1 GiB string costs MaxBytes of memory, not a gigabyte. A Value in
// the making holds at most MaxBytes of string bytes (twice, while its
// longest string is copied out of the decoder's scratch buffer) plus the
// Go overhead of its values: some 50 to 150 bytes each, MaxValues at
// most.
//
// # Keeping what cannot be kept as a string
//
// Files written by a JavaScript program may hold lone surrogates, and
// damaged files invalid bytes. A reader that must keep such a document
// rather than refuse it sets Options.BadString: each string (value or
// member name) that is not valid UTF-8 or holds a lone surrogate is then
// passed to it with its exact original text, and decodes to what
// encoding/json would make of it (U+FFFD for each bad byte or surrogate).
// The caller keeps the original text where it documents it.
//
// # What it never does
//
//   - Panic on any input (FuzzDecoder).
//   - Disagree with encoding/json on an input both accept: the same
//     values, the same numbers as literals (FuzzDecoder compares them).
//   - Import another Cairn package: it sits below every package that reads
//     JSON.
package jsonx

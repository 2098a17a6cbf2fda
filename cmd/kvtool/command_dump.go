package main

import (
	"encoding/hex"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/cairnkv/cairn/buckets"
	"github.com/spf13/cobra"
)

type dumpEntry struct {
	Key      string `json:"key"`
	KeyHex   string `json:"key_hex,omitempty"`
	Bytes    int    `json:"bytes"`
	Value    any    `json:"value,omitempty"`
	ValueHex string `json:"value_hex,omitempty"`
	Error    string `json:"error,omitempty"`
}

func newDumpCommand(g *globals) *cobra.Command {
	var limit int
	var prefix string
	cmd := &cobra.Command{
		Use:   "dump BUCKET [--limit N] [--prefix P]",
		Short: "Print raw keys and decoded values of a bucket",
		Long: `dump prints the keys of BUCKET (see kvtool buckets) in key order, with each
value decoded where Cairn knows its format: document records (revision,
size, parts, document), summaries, parts, change-log entries, reference
counts and index keys. A value that fails its checksum is shown in hex with
the error. Keys that are not printable text are shown in hex.`,
		Example: `  kvtool dump c/notes --limit 5
  kvtool dump x/sessions/status --prefix ' completed'`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if limit < 0 {
				return usagef("--limit must not be negative")
			}
			name := args[0]
			db, err := g.openRO()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			kind, _, _, _ := buckets.ParseBucket([]byte(name))
			out := []dumpEntry{}
			err = db.Dump(cmd.Context(), name, []byte(prefix), limit, func(k, v []byte) error {
				out = append(out, decodeEntry(kind, []byte(name), k, v))
				return nil
			})
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			for _, e := range out {
				line := e.Key
				if e.KeyHex != "" {
					line = "0x" + e.KeyHex
				}
				line = terminalSafe(line)
				switch {
				case e.Error != "":
					fmt.Fprintf(cmd.OutOrStdout(), "%s  ERROR %s  %s\n", line, terminalSafe(e.Error), e.ValueHex)
				case e.Value != nil:
					fmt.Fprintf(cmd.OutOrStdout(), "%s  %s\n", line, terminalSafe(compactJSON(e.Value)))
				default:
					fmt.Fprintf(cmd.OutOrStdout(), "%s  (%d bytes)\n", line, e.Bytes)
				}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "at most N entries (0: all)")
	cmd.Flags().StringVar(&prefix, "prefix", "", "only keys starting with P")
	return cmd
}

func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func decodeEntry(kind buckets.BucketKind, bucket, k, v []byte) dumpEntry {
	e := dumpEntry{Key: string(k), Bytes: len(v)}
	if !printable(k) {
		e.Key = ""
		e.KeyHex = hex.EncodeToString(k)
	}
	var val any
	var err error
	switch kind {
	case buckets.BucketPrimary:
		var r *buckets.Record
		if r, err = buckets.DecodeRecord(bucket, k, v, true); err == nil {
			val = map[string]any{"rev": r.Rev, "size": r.Size, "array_parts": emptyMap(r.ArrayParts), "blob_parts": emptyList(r.BlobParts), "doc": r.Doc}
		}
	case buckets.BucketMeta:
		val, err = buckets.DecodeValue(bucket, k, v)
	case buckets.BucketParts:
		id, field, idx, perr := buckets.ParsePartKey(k)
		if perr != nil {
			err = perr
			break
		}
		e.Key = fmt.Sprintf("%s/%s", id, field)
		if idx >= 0 {
			e.Key = fmt.Sprintf("%s/%s[%d]", id, field, idx)
		}
		e.KeyHex = ""
		val, err = buckets.DecodeValue(bucket, k, v)
	case buckets.BucketLog:
		var c *buckets.Change
		if c, err = buckets.DecodeChange(k, v); err == nil {
			e.Key, e.KeyHex = fmt.Sprint(c.Seq), ""
			val = c
		}
	case buckets.BucketRefs:
		var n uint64
		if n, err = buckets.ParseCount(v); err == nil {
			val = n
		}
	case buckets.BucketIndex:
		value, id, perr := buckets.SplitIndexKey(k)
		if perr != nil {
			err = perr
			break
		}
		dv, derr := buckets.DecodeIndexValue(value)
		if derr != nil {
			err = derr
			break
		}
		if t, ok := dv.(buckets.IndexInstant); ok {
			dv = instantString(int64(t))
		}
		val = map[string]any{"value": dv, "id": id}
	default:
		if len(v) > 0 {
			e.ValueHex = hex.EncodeToString(v)
		}
		return e
	}
	if err != nil {
		e.Error = err.Error()
		e.ValueHex = hex.EncodeToString(v)
		return e
	}
	e.Value = val
	return e
}

// emptyMap and emptyList are their argument, or an empty one for none:
// --json prints {} or [] where a map or a list belongs, never null.
func emptyMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}

func emptyList[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

package legacy

import (
	"reflect"
)

// equalJSON compares decoded JSON values, treating json.Number by text.
func equalJSON(a, b any) bool {
	return reflect.DeepEqual(normJSON(a), normJSON(b))
}

func normJSON(v any) any {
	switch x := v.(type) {
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normJSON(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normJSON(e)
		}
		return out
	default:
		return v
	}
}

package main

import (
	"encoding/json"
	"os"
)

func printJSON(res *Result) {
	e := json.NewEncoder(os.Stdout)
	e.SetIndent("", "  ")
	_ = e.Encode(res)
}

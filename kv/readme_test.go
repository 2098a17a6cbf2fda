package kv_test

import (
	"os"
	"strings"
	"testing"
)

// TestREADME_snippetIsExample: the README's Library snippet is the body
// of Example_readme, which runs with the tests, so the README's code
// compiles and does what its output says. Indentation: a tab in the
// example is four spaces in the README.
func TestREADME_snippetIsExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, lib, ok := strings.Cut(string(readme), "\n## Library\n")
	if !ok {
		t.Fatal("README.md has no '## Library' section")
	}
	_, code, ok := strings.Cut(lib, "```go\n")
	code, _, ok2 := strings.Cut(code, "```")
	if !ok || !ok2 {
		t.Fatal("README.md's Library section has no ```go block")
	}
	src, err := os.ReadFile("example_api_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(src), "\t// README:begin\n")
	body, _, ok2 = strings.Cut(body, "\t// README:end\n")
	if !ok || !ok2 {
		t.Fatal("example_api_test.go has no README:begin/README:end markers")
	}
	var want strings.Builder
	for _, line := range strings.SplitAfter(body, "\n") {
		line = strings.TrimPrefix(line, "\t")
		n := len(line) - len(strings.TrimLeft(line, "\t"))
		want.WriteString(strings.Repeat("    ", n) + line[n:])
	}
	if code != want.String() {
		t.Fatalf("README.md's Library snippet differs from Example_readme (copy it over):\n--- README\n%s--- Example_readme\n%s", code, want.String())
	}
}

package lint

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/cairnkv/cairn/"

// allowed lists, for each package, the Cairn packages it may import: the
// direction of imports in docs/DESIGN.md ("no package imports one above it"),
// plus the internal helpers. A package not listed may import nothing of
// Cairn's.
var allowed = map[string][]string{
	"schema":             {},
	"buckets":            {"schema"},
	"secondary":          {"buckets", "schema"},
	"txn":                {"secondary", "buckets", "schema"},
	"search":             {"buckets", "schema"},
	"snapshot":           {"buckets", "internal/fsutil"},
	"kv":                 {"txn", "secondary", "search", "snapshot", "buckets", "schema", "internal/fsutil", "internal/blobstore", "internal/jsonx"},
	"kv/entity":          {"buckets"},
	"legacy":             {"kv", "internal/jsonx", "internal/docmodel"},
	"cmd/kvtool":         {"kv", "legacy", "snapshot", "buckets", "webui", "internal/fsutil", "internal/gen", "internal/docmodel"},
	"webui":              {"kv", "internal/docmodel"},
	"bench":              {"kv", "legacy", "internal/gen"},
	"bench/crash":        {"kv", "legacy", "internal/gen"},
	"internal/fsutil":    {},
	"internal/blobstore": {"buckets", "internal/fsutil"},
	"internal/gen":       {},
	"internal/jsonx":     {},
	"internal/docmodel":  {"buckets", "schema"},
	"internal/lint":      {},
}

// thirdParty lists, for each outside module (by import path prefix), the
// only packages that may import it: each dependency stays behind the
// package that owns it (docs/DESIGN.md), so that kv's users never see it.
var thirdParty = map[string][]string{
	"go.etcd.io/bbolt":                {"buckets", "secondary", "txn", "snapshot", "kv"},
	"github.com/blevesearch/":         {"search"},
	"github.com/vmihailenco/msgpack/": {"buckets"},
	"github.com/golang/snappy":        {"buckets"},
	"github.com/spf13/cobra":          {"cmd/kvtool"},
	"github.com/nats-io/":             {"replica"},
	"github.com/chromedp/":            {},
}

// TestImports_followDesign parses every non-test Go file of the module and
// fails on an import the design does not allow.
func TestImports_followDesign(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "peers") {
				return filepath.SkipDir // peers is its own module
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if rest, ok := strings.CutPrefix(p, module); ok {
				imports[pkg][rest] = true
				continue
			}
			for prefix, owners := range thirdParty {
				if strings.HasPrefix(p, prefix) && !slices.Contains(owners, pkg) {
					t.Errorf("package %s imports %s, which only %v may import", pkg, p, owners)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		ok, known := allowed[pkg]
		if !known {
			if len(imports[pkg]) > 0 {
				t.Errorf("package %s imports %v but is not in the design's import table", pkg, keys(imports[pkg]))
			}
			continue
		}
		allow := map[string]bool{}
		for _, a := range ok {
			allow[a] = true
		}
		for imp := range imports[pkg] {
			if !allow[imp] {
				t.Errorf("package %s imports %s, which docs/DESIGN.md does not allow", pkg, imp)
			}
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

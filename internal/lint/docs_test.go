package lint

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// docRef is a mention of one of the repository's own documents, which
// live in docs/, with the path written before it.
var docRef = regexp.MustCompile(`(^|[^A-Za-z0-9_./-])((?:[A-Za-z0-9_.-]+/)*)(DESIGN|FORMAT|KVTOOL|STYLE)\.md`)

// upPath is a relative path that climbs: one or more "../" and a name.
var upPath = regexp.MustCompile(`(?:\.\./)+[A-Za-z0-9_][A-Za-z0-9_.-]*`)

// mdLink is a markdown link's target: [text](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocs_referencesResolve: the repository stands alone. Every mention
// of one of its documents (DESIGN.md, FORMAT.md, KVTOOL.md, STYLE.md), in
// Go source and in markdown, names a file that exists (relative to the
// file or to the repository's root: "docs/FORMAT.md"), every relative
// markdown link points at a file of the repository, and no relative path
// climbs out of the repository (a sibling directory of the checkout is not
// in a user's clone).
func TestDocs_referencesResolve(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	inside := func(p string) bool {
		p = filepath.Clean(p)
		return p == root || strings.HasPrefix(p, root+string(filepath.Separator))
	}
	exists := func(p string) bool {
		if !inside(p) {
			return false
		}
		_, err := os.Stat(p)
		return err == nil
	}
	var problems []string
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		md := strings.HasSuffix(name, ".md")
		if !md && !strings.HasSuffix(name, ".go") {
			return nil
		}
		if path == filepath.Join(root, "internal", "lint", "docs_test.go") {
			return nil // this file names the patterns it looks for
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(root, path)
		dir := filepath.Dir(path)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			where := rel + ":" + strconv.Itoa(n)
			// Prose only: Go tests feed climbing paths to the store as
			// hostile ids and names on purpose.
			prose := line
			if !md {
				_, prose, _ = strings.Cut(line, "//")
			}
			for _, up := range upPath.FindAllString(prose, -1) {
				if !inside(filepath.Join(dir, up)) {
					problems = append(problems, where+": names "+up+", a path outside the repository")
				}
			}
			for _, m := range docRef.FindAllStringSubmatch(line, -1) {
				ref := m[2] + m[3] + ".md"
				if !exists(filepath.Join(dir, ref)) && !exists(filepath.Join(root, ref)) {
					problems = append(problems, where+": "+ref+" does not resolve (write docs/"+m[3]+".md)")
				}
			}
			if !md {
				continue
			}
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if i := strings.IndexAny(target, "#?"); i >= 0 {
					target = target[:i]
				}
				if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				if !exists(filepath.Join(dir, target)) {
					problems = append(problems, where+": link to "+m[1]+", which is not a file of the repository")
				}
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

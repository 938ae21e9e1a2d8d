package policy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/brazesync/brazesync/destination/brazeapi"
	"github.com/brazesync/brazesync/test/testbin"
)

var (
	// outside matches citations of research notes that are not in this repository (spelt in two
	// pieces so this line does not match itself).
	outside = regexp.MustCompile(`shared` + `/reference|/work` + `/shared|(^|[^/\w])(braze-api|looker|cloudquery|snowflake)\.md §`)
	page    = regexp.MustCompile(`docs/([\w-]+\.md)`)
	// numbered names the page of a line's sections; section is one section number, or a range.
	numbered = regexp.MustCompile(`docs/([\w-]+\.md) §`)
	section  = regexp.MustCompile(`§(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?`)
	anchor   = regexp.MustCompile(`docs/([\w-]+\.md)#([\w-]+)`)
	titled   = regexp.MustCompile(`docs/([\w-]+\.md), "([^"]+)"`)
	heading  = regexp.MustCompile(`^#{1,4} (?:(\d+(?:\.\d+)?)\.? )?(.*)$`)
	htmlID   = regexp.MustCompile(`<a (?:id|name)="([\w-]+)"`)
	instance = regexp.MustCompile(`^[A-Z]{2}-\d\d$`)
)

// TestCitationsResolve: the facts the code relies on are cited where they live in this repository.
// In every Go file (and docs/emulator-braze.md, which cites sections the same way) each docs page
// named exists; each "§n" is a numbered section of the page the line names, docs/braze-api.md when
// it names none; each "#anchor" and each quoted title is a heading of its page; and nothing cites
// research notes kept outside the repository.
func TestCitationsResolve(t *testing.T) {
	root := testbin.Root()
	files := []string{filepath.Join(root, "docs", "emulator-braze.md")}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "vendor" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]*docPage{}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		forEachLine(t, f, func(n int, line string) {
			for _, problem := range checkLine(root, docs, line) {
				t.Errorf("%s:%d: %s", rel, n, problem)
			}
		})
	}
}

// checkLine returns what is wrong with the citations of one line.
func checkLine(root string, docs map[string]*docPage, line string) []string {
	if outside.MatchString(line) {
		return []string{"cites notes outside the repository: cite docs/braze-api.md (or docs/looker.md, docs/cloudquery.md) instead"}
	}
	var problems []string
	for _, m := range page.FindAllStringSubmatch(line, -1) {
		if load(root, docs, m[1]) == nil {
			problems = append(problems, "docs/"+m[1]+" does not exist")
		}
	}
	target := "braze-api.md"
	if m := numbered.FindStringSubmatch(line); m != nil {
		target = m[1]
	}
	if p := load(root, docs, target); p != nil {
		for _, m := range section.FindAllStringSubmatch(line, -1) {
			for _, num := range m[1:] {
				if num != "" && !p.numbers[num] {
					problems = append(problems, "docs/"+target+" has no section "+num)
				}
			}
		}
	}
	for _, m := range anchor.FindAllStringSubmatch(line, -1) {
		if p := load(root, docs, m[1]); p != nil && !p.anchors[m[2]] {
			problems = append(problems, "docs/"+m[1]+" has no heading #"+m[2])
		}
	}
	for _, m := range titled.FindAllStringSubmatch(line, -1) {
		if p := load(root, docs, m[1]); p != nil && !p.titles[m[2]] {
			problems = append(problems, "docs/"+m[1]+" has no heading "+m[2])
		}
	}
	return problems
}

// docPage is what citations can point at in one page.
type docPage struct {
	numbers, anchors, titles map[string]bool
}

// load reads docs/name once; nil when it does not exist.
func load(root string, docs map[string]*docPage, name string) *docPage {
	if p, ok := docs[name]; ok {
		return p
	}
	raw, err := os.ReadFile(filepath.Join(root, "docs", name))
	if err != nil {
		docs[name] = nil
		return nil
	}
	p := &docPage{numbers: map[string]bool{}, anchors: map[string]bool{}, titles: map[string]bool{}}
	inCode := false
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "```") {
			inCode = !inCode
		}
		if inCode {
			continue
		}
		for _, id := range htmlID.FindAllStringSubmatch(l, -1) {
			p.anchors[id[1]] = true
		}
		m := heading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if m[1] != "" {
			p.numbers[m[1]] = true
		}
		p.titles[m[2]] = true
		p.anchors[slug(strings.TrimSpace(strings.TrimLeft(l, "#")))] = true
	}
	docs[name] = p
	return p
}

// slug is the anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens.
func slug(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestInstanceTableMatchesDocs: the endpoint policy's instance table is the one in
// docs/braze-api.md §6, row for row, so the docs list exactly the hosts the code accepts.
func TestInstanceTableMatchesDocs(t *testing.T) {
	var doc []brazeapi.Instance
	in := false
	forEachLine(t, filepath.Join(testbin.Root(), "docs", "braze-api.md"), func(_ int, l string) {
		if strings.HasPrefix(l, "## ") {
			in = strings.HasPrefix(l, "## 6. ")
		}
		cells := strings.Split(strings.Trim(l, "| "), "|")
		if !in || len(cells) != 3 || !instance.MatchString(strings.TrimSpace(cells[0])) {
			return
		}
		row := brazeapi.Instance{Name: strings.TrimSpace(cells[0]), Dashboard: strings.TrimSpace(cells[1]), REST: strings.TrimSpace(cells[2])}
		if row.Dashboard == "—" {
			row.Dashboard = ""
		}
		doc = append(doc, row)
	})
	if code := brazeapi.Instances(); !slices.Equal(doc, code) {
		t.Errorf("docs/braze-api.md §6 lists\n  %v\nthe code's table is\n  %v", doc, code)
	}
}

func forEachLine(t *testing.T, path string, fn func(n int, line string)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		fn(n, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

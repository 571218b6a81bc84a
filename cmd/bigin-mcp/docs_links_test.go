package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxREADMELines is how long the README may grow: what a newcomer reads
// first fits on a few screens, and the reference lives in docs/.
const maxREADMELines = 300

// TestREADMEIsShortAndLeadsIntoDocs: the README stays under
// maxREADMELines, shows the two commands, and its table of contents names
// every page of docs/, so no page is left where no one finds it.
func TestREADMEIsShortAndLeadsIntoDocs(t *testing.T) {
	t.Parallel()
	readme := readDoc(t, "README.md")
	lines := strings.Count(readme, "\n")
	assert.LessOrEqual(t, lines, maxREADMELines, "README.md has %d lines; move reference material into docs/", lines)
	for _, cmd := range []string{"go run ./cmd/bigin-mcp serve", "go test ./...", "go run ./cmd/bigin-mcp demo"} {
		assert.Contains(t, readme, cmd)
	}
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, pages)
	for _, p := range pages {
		assert.Contains(t, readme, "](docs/"+filepath.Base(p)+")", "the README's table of contents links %s", filepath.Base(p))
	}
}

// TestDocsLinksResolve: every relative link in the README and docs/
// names a file of the repository and, with a #fragment, a heading of that
// file (GitHub's anchors), so moving a section cannot leave a dead link.
func TestDocsLinksResolve(t *testing.T) {
	t.Parallel()
	files := []string{"README.md"}
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	require.NoError(t, err)
	for _, p := range pages {
		files = append(files, filepath.Join("docs", filepath.Base(p)))
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	checked := 0
	for _, f := range files {
		text := stripFences(readDoc(t, f))
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			file := f
			if path != "" {
				file = filepath.Join(filepath.Dir(f), path)
			}
			content, err := os.ReadFile(filepath.Join(repoRoot, file))
			if !assert.NoError(t, err, "%s links %s, which is not a file of the repository", f, target) {
				continue
			}
			checked++
			if frag != "" && strings.HasSuffix(file, ".md") {
				assert.Contains(t, anchors(string(content)), frag, "%s links %s: %s has no heading with that anchor", f, target, file)
			}
		}
	}
	assert.Greater(t, checked, 20, "the docs' links were read")
}

// repoRoot is the repository's root, from this package's folder.
var repoRoot = filepath.Join("..", "..")

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, name))
	require.NoError(t, err)
	return string(b)
}

// stripFences drops fenced code blocks, whose brackets are not links.
func stripFences(s string) string {
	var out strings.Builder
	in := false
	for line := range strings.Lines(s) {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			continue
		}
		if !in {
			out.WriteString(line)
		}
	}
	return out.String()
}

// anchors returns the anchors GitHub gives a Markdown file's headings:
// lower case, punctuation dropped but hyphens and underscores, spaces as
// hyphens, a repeated one numbered.
func anchors(md string) map[string]bool {
	seen := map[string]int{}
	out := map[string]bool{}
	for line := range strings.Lines(stripFences(md)) {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out[a+"-"+strconv.Itoa(n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// toolCount finds a number of tools written out, such as "Ten tools" or
// "7 directory tools".
var toolCount = regexp.MustCompile(`(?i)\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|` +
	`sixteen|seventeen|eighteen|nineteen|twenty|\d+)\s+(?:(?:record|directory|read|write|read-only|published|mcp|chatgpt)\s+)?tools\b`)

// TestDocsDoNotCountTheTools: the README and docs/ name the tools but
// never say how many there are, so adding a tool to the catalog leaves
// no sentence false (the demo and the client suite read the count from
// the published list).
func TestDocsDoNotCountTheTools(t *testing.T) {
	t.Parallel()
	files := []string{"README.md", filepath.Join("testdata", "clients", "README.md")}
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	require.NoError(t, err)
	for _, p := range pages {
		files = append(files, filepath.Join("docs", filepath.Base(p)))
	}
	for _, f := range files {
		for i, line := range strings.Split(readDoc(t, f), "\n") {
			if m := toolCount.FindString(line); m != "" {
				assert.Fail(t, "a count of tools", "%s:%d says %q: name the tools, or say what a URL offers, without a number", f, i+1, m)
			}
		}
	}
}

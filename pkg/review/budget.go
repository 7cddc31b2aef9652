package review

import (
	"path"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
)

// Default diff budget. A file's diff larger than DefaultFileBytes is
// skipped, and files are taken in diff order until DefaultTotalBytes is
// spent: about 150 000 tokens, what a review agent can read with room left
// to think, and enough for every file of an ordinary pull request.
const (
	DefaultFileBytes  = 64 << 10
	DefaultTotalBytes = 512 << 10
)

// Budget bounds how much diff an agent is given. Zero fields take the
// defaults.
type Budget struct {
	// FileBytes is the largest diff of one file that is reviewed.
	FileBytes int `json:"file_bytes"`
	// TotalBytes is the most diff reviewed in one run.
	TotalBytes int `json:"total_bytes"`
}

// Skipped is a file left out of the review, and why.
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Skip reasons.
const (
	SkipLockfile  = "lockfile"
	SkipGenerated = "generated"
	SkipBinary    = "binary"
	SkipTooLarge  = "diff larger than the per-file limit"
	SkipBudget    = "over the review's diff budget"
)

// Selection is the part of a diff an agent reviews.
type Selection struct {
	// Diff holds the reviewed files.
	Diff *Diff
	// Patch is their diff text, what the agent reads.
	Patch []byte
	// Skipped are the files left out, in diff order.
	Skipped []Skipped
}

// Select takes the diff's files in order, leaving out lockfiles, generated
// files, binaries, files whose diff exceeds FileBytes and, once TotalBytes is
// spent, every file that no longer fits. Files left out are listed, never
// silently lost.
func (b Budget) Select(d *Diff) Selection {
	fileMax, total := b.FileBytes, b.TotalBytes
	if fileMax <= 0 {
		fileMax = DefaultFileBytes
	}
	if total <= 0 {
		total = DefaultTotalBytes
	}
	var sel Selection
	var kept []*gitdiff.File
	var patch strings.Builder
	for _, f := range d.Files {
		p := filePath(f)
		reason := ""
		switch {
		case f.IsBinary:
			reason = SkipBinary
		case isLockfile(p):
			reason = SkipLockfile
		case isGenerated(f, p):
			reason = SkipGenerated
		}
		var text string
		if reason == "" {
			text = f.String()
			switch {
			case len(text) > fileMax:
				reason = SkipTooLarge
			case patch.Len()+len(text) > total:
				reason = SkipBudget
			}
		}
		if reason != "" {
			sel.Skipped = append(sel.Skipped, Skipped{Path: p, Reason: reason})
			continue
		}
		kept = append(kept, f)
		patch.WriteString(text)
	}
	sel.Diff = newDiff(kept)
	sel.Patch = []byte(patch.String())
	return sel
}

var lockfiles = map[string]bool{
	"go.sum": true, "go.work.sum": true, "package-lock.json": true, "npm-shrinkwrap.json": true,
	"yarn.lock": true, "pnpm-lock.yaml": true, "bun.lockb": true, "bun.lock": true,
	"Cargo.lock": true, "Gemfile.lock": true, "poetry.lock": true, "Pipfile.lock": true,
	"uv.lock": true, "composer.lock": true, "packages.lock.json": true, "flake.lock": true,
	"mix.lock": true, "pubspec.lock": true, "Podfile.lock": true, "gradle.lockfile": true,
}

func isLockfile(p string) bool {
	return lockfiles[path.Base(p)]
}

// isGenerated recognises generated files by name, by directory, or by the
// "Code generated … DO NOT EDIT." line Go and many other tools write.
func isGenerated(f *gitdiff.File, p string) bool {
	base := path.Base(p)
	for _, suffix := range []string{".pb.go", "_generated.go", ".gen.go", ".min.js", ".min.css", ".map", "_pb2.py", ".pb.cc", ".pb.h"} {
		if strings.HasSuffix(base, suffix) {
			return true
		}
	}
	for _, dir := range []string{"vendor/", "node_modules/", "third_party/"} {
		if strings.HasPrefix(p, dir) || strings.Contains(p, "/"+dir) {
			return true
		}
	}
	if len(f.TextFragments) > 0 {
		frag := f.TextFragments[0]
		if frag.NewPosition <= 1 {
			for i, l := range frag.Lines {
				if i >= 10 {
					break
				}
				if l.New() && strings.Contains(l.Line, "Code generated") && strings.Contains(l.Line, "DO NOT EDIT") {
					return true
				}
			}
		}
	}
	return false
}

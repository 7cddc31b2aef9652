package review

import (
	"fmt"
	"io"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
)

// Diff is a pull request's diff, indexed by the lines a review comment can
// be placed on.
type Diff struct {
	// Files are the diff's files in order, as go-gitdiff parsed them.
	Files  []*gitdiff.File
	byPath map[string]*fileIndex // new path, and old path of renames and deletions
}

// fileIndex says, for one file, which lines of each side the diff shows and
// in which hunk.
type fileIndex struct {
	file *gitdiff.File
	path string // the path GitHub knows the file by in the pull request
	// right and left map a line number to its place in the diff.
	right, left map[int]diffLine
}

type diffLine struct {
	hunk  int    // index of the hunk in file.TextFragments
	index int    // index of the line in the hunk
	text  string // the line's content, without its newline
}

// ParseDiff reads a unified git diff (as `git diff` or GitHub's
// application/vnd.github.diff prints it).
func ParseDiff(r io.Reader) (*Diff, error) {
	files, _, err := gitdiff.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("parse diff: %w", err)
	}
	return newDiff(files), nil
}

func newDiff(files []*gitdiff.File) *Diff {
	d := &Diff{Files: files, byPath: make(map[string]*fileIndex, len(files))}
	for _, f := range files {
		var nOld, nNew int64
		for _, frag := range f.TextFragments {
			nOld, nNew = nOld+frag.OldLines, nNew+frag.NewLines
		}
		fi := &fileIndex{file: f, path: filePath(f),
			right: make(map[int]diffLine, min(nNew, 1<<16)), left: make(map[int]diffLine, min(nOld, 1<<16))}
		for h, frag := range f.TextFragments {
			oldN, newN := int(frag.OldPosition), int(frag.NewPosition)
			for i, l := range frag.Lines {
				text := strings.TrimSuffix(l.Line, "\n")
				if l.Old() {
					fi.left[oldN] = diffLine{h, i, text}
					oldN++
				}
				if l.New() {
					fi.right[newN] = diffLine{h, i, text}
					newN++
				}
			}
		}
		d.byPath[fi.path] = fi
		if f.OldName != "" && f.OldName != fi.path {
			if _, taken := d.byPath[f.OldName]; !taken {
				d.byPath[f.OldName] = fi
			}
		}
	}
	return d
}

// filePath is the path of f in the pull request: its new name, or the old
// one for a deleted file.
func filePath(f *gitdiff.File) string {
	if f.IsDelete || f.NewName == "" {
		return f.OldName
	}
	return f.NewName
}

// lookup finds the file a finding names, forgiving a "./" or a diff's "a/"
// or "b/" prefix.
func (d *Diff) lookup(path string) *fileIndex {
	if fi, ok := d.byPath[path]; ok {
		return fi
	}
	for _, prefix := range []string{"./", "b/", "a/"} {
		if rest, ok := strings.CutPrefix(path, prefix); ok {
			if fi, ok := d.byPath[rest]; ok {
				return fi
			}
		}
	}
	return nil
}

// Paths lists the files of the diff by their path in the pull request.
func (d *Diff) Paths() []string {
	paths := make([]string, len(d.Files))
	for i, f := range d.Files {
		paths[i] = filePath(f)
	}
	return paths
}

// LineText returns the content of line on side of path, if the diff shows
// it.
func (d *Diff) LineText(path string, side Side, line int) (string, bool) {
	fi := d.lookup(path)
	if fi == nil {
		return "", false
	}
	l, ok := fi.lines(side)[line]
	return l.text, ok
}

// Context returns the diff lines a reader sees above an inline comment: up
// to before lines of the hunk, then the commented lines (start through line;
// start zero for one line), each as the diff prints it (" ", "+" or "-"
// first).
func (d *Diff) Context(path string, side Side, start, line, before int) []string {
	fi := d.lookup(path)
	if fi == nil {
		return nil
	}
	l, ok := fi.lines(side)[line]
	if !ok {
		return nil
	}
	first := l.index
	if s, ok := fi.lines(side)[start]; ok && s.hunk == l.hunk && s.index < first {
		first = s.index
	}
	frag := fi.file.TextFragments[l.hunk]
	from := max(0, first-before)
	out := make([]string, 0, l.index-from+1)
	for _, dl := range frag.Lines[from : l.index+1] {
		out = append(out, strings.TrimSuffix(dl.String(), "\n"))
	}
	return out
}

func (fi *fileIndex) lines(side Side) map[int]diffLine {
	if side == SideLeft {
		return fi.left
	}
	return fi.right
}

package fakegithub

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
)

// Content is one file of a repository at a ref (a branch name or a commit).
type Content struct {
	Repo    string `json:"repo"`
	Ref     string `json:"ref"`
	Path    string `json:"path"`
	Content string `json:"content"`
}

// AddFile adds a file to repo ("owner/name") at ref.
func (f *Fake) AddFile(repo, ref, path, content string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state.Contents = append(f.state.Contents, &Content{Repo: repo, Ref: ref, Path: path, Content: content})
}

// getContents serves GET /repos/{owner}/{repo}/contents/{path}?ref=REF: a
// file as GitHub sends it (base64), or a directory's entries.
func (f *Fake) getContents(w http.ResponseWriter, r *http.Request, _ User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	ref := r.URL.Query().Get("ref")
	path := strings.Trim(r.PathValue("path"), "/")
	var entries []map[string]any
	seen := map[string]bool{}
	for _, c := range f.state.Contents {
		if c.Repo != repo || c.Ref != ref {
			continue
		}
		if c.Path == path {
			writeJSON(w, http.StatusOK, map[string]any{
				"type": "file", "encoding": "base64", "name": c.Path[strings.LastIndex(c.Path, "/")+1:],
				"path": c.Path, "size": len(c.Content), "content": base64.StdEncoding.EncodeToString([]byte(c.Content)),
			})
			return
		}
		rest, ok := strings.CutPrefix(c.Path, path+"/")
		if path == "" {
			rest, ok = c.Path, true
		}
		if !ok {
			continue
		}
		name, _, isDir := strings.Cut(rest, "/")
		if seen[name] {
			continue
		}
		seen[name] = true
		typ := "file"
		if isDir {
			typ = "dir"
		}
		entries = append(entries, map[string]any{"type": typ, "name": name, "path": strings.TrimPrefix(path+"/"+name, "/")})
	}
	if entries == nil {
		notFound(w)
		return
	}
	slices.SortFunc(entries, func(a, b map[string]any) int { return strings.Compare(a["path"].(string), b["path"].(string)) })
	writeJSON(w, http.StatusOK, entries)
}

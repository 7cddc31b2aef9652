package fakegithub

import (
	"net/http"
	"strings"
)

// Comparison is the diff between two commits of a repository, as the
// compare API serves it for base...head.
type Comparison struct {
	Repo string `json:"repo"`
	Base string `json:"base"`
	Head string `json:"head"`
	Diff string `json:"diff"`
}

// AddComparison makes the compare API answer base...head in repo
// ("owner/name") with diff. A pair not added answers 404, as GitHub does
// for a commit it does not have (a head a force push replaced).
func (f *Fake) AddComparison(repo, base, head, diff string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state.Comparisons = append(f.state.Comparisons, &Comparison{Repo: repo, Base: base, Head: head, Diff: diff})
}

// compare serves GET /repos/{owner}/{repo}/compare/{base}...{head}. Only
// the diff media type is served: that is all the action asks for.
func (f *Fake) compare(w http.ResponseWriter, r *http.Request, _ User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	base, head, ok := strings.Cut(r.PathValue("basehead"), "...")
	if !ok {
		notFound(w)
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "diff") {
		unprocessable(w, "the fake compare API serves only application/vnd.github.diff")
		return
	}
	for _, c := range f.state.Comparisons {
		if c.Repo == repo && c.Base == base && c.Head == head {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte(c.Diff))
			return
		}
	}
	notFound(w)
}

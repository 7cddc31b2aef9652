package review

import "github.com/bluekeyes/go-gitdiff/gitdiff"

// Scope says how much of a pull request a run reviews.
type Scope string

// Scopes.
const (
	// ScopeFull reviews the whole pull request diff.
	ScopeFull Scope = "full"
	// ScopeSince reviews only the files changed since the last reviewed
	// head (Decision.Since).
	ScopeSince Scope = "since"
	// ScopeSkip reviews nothing: the head was reviewed already.
	ScopeSkip Scope = "skip"
)

// Decision is what a run on head should review.
type Decision struct {
	Scope Scope `json:"scope"`
	// Since is the last reviewed head, for ScopeSince.
	Since string `json:"since,omitempty"`
	// Reason says why, for the log and the status comment.
	Reason string `json:"reason"`
}

// Decide chooses the scope of a review of head, given the earlier reviews.
// The same head is not reviewed twice unless force (a person's command) asks
// for it; a new head after a reviewed one is reviewed incrementally.
func Decide(e Earlier, head string, force bool) Decision {
	last := e.LastSHA()
	switch {
	case force:
		return Decision{Scope: ScopeFull, Reason: "a review was requested"}
	case e.Reviewed(head):
		return Decision{Scope: ScopeSkip, Reason: "head " + short(head) + " was reviewed already"}
	case last == "":
		return Decision{Scope: ScopeFull, Reason: "first review of this pull request"}
	default:
		return Decision{Scope: ScopeSince, Since: last, Reason: "changes since the review of " + short(last)}
	}
}

// Restrict returns the part of the pull request's diff that a ScopeSince run
// reviews: the files that changed between the last reviewed head and the new
// one (since is that diff). The pull request's own diff is kept, not since,
// because comments are anchored to it. A nil since (the old head is gone
// after a force push) means the whole diff.
func Restrict(pr, since *Diff) *Diff {
	if since == nil {
		return pr
	}
	changed := map[string]bool{}
	for _, f := range since.Files {
		changed[f.OldName] = true
		changed[f.NewName] = true
	}
	var files []*gitdiff.File
	for _, f := range pr.Files {
		if changed[filePath(f)] || changed[f.OldName] {
			files = append(files, f)
		}
	}
	return newDiff(files)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

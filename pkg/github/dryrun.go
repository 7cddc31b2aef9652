package github

import (
	"fmt"
	"strings"
	"sync"
)

// Post is something the client would have written to GitHub in dry-run
// mode (Options.DryRun). Body is scrubbed, as it would have been posted.
type Post struct {
	// Kind is "reaction", "reply", "status comment" or "review".
	Kind string
	// Target names where it would have gone: "owner/repo#12", or the
	// comment id for a reaction.
	Target string
	Body   string
}

// dryRun collects the posts of a dry run.
type dryRun struct {
	mu    sync.Mutex
	posts []Post
}

func (d *dryRun) add(p Post) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.posts = append(d.posts, p)
}

// DryRunPosts returns what a dry-run client would have posted, in order.
// A status comment updated several times appears once per update.
func (c *Client) DryRunPosts() []Post {
	if c.dry == nil {
		return nil
	}
	c.dry.mu.Lock()
	defer c.dry.mu.Unlock()
	return append([]Post(nil), c.dry.posts...)
}

// RenderDryRun renders posts for the step summary: each under a heading,
// its body in a fence that its content cannot close. Only the last update
// of a status comment is shown; earlier ones are counted.
func RenderDryRun(posts []Post) string {
	var b strings.Builder
	b.WriteString("### Dry run: nothing was posted\n\n")
	if len(posts) == 0 {
		b.WriteString("Nothing would have been posted.\n")
		return b.String()
	}
	updates := 0
	for i, p := range posts {
		if p.Kind == "status comment" {
			updates++
			if laterStatus(posts[i+1:]) {
				continue
			}
		}
		title := fmt.Sprintf("%s on %s", p.Kind, p.Target)
		if p.Kind == "status comment" && updates > 1 {
			title += fmt.Sprintf(" (last of %d updates)", updates)
		}
		fence := fenceFor(p.Body)
		fmt.Fprintf(&b, "#### Would post: %s\n\n%smarkdown\n%s\n%s\n\n", title, fence, strings.TrimRight(p.Body, "\n"), fence)
	}
	return b.String()
}

func laterStatus(ps []Post) bool {
	for _, p := range ps {
		if p.Kind == "status comment" {
			return true
		}
	}
	return false
}

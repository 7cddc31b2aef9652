package github

import (
	"context"
	"fmt"
	"net/http"

	gh "github.com/google/go-github/v62/github"
)

// CompareDiff returns the unified diff from base to head (GitHub's
// base...head comparison). A commit GitHub does not have, such as a head
// that a force push replaced, is an error satisfying
// errors.Is(err, ErrNotFound).
func (c *Client) CompareDiff(ctx context.Context, repo Repo, base, head string) (string, error) {
	d, resp, err := c.gh.Repositories.CompareCommitsRaw(ctx, repo.Owner, repo.Name, base, head, gh.RawOptions{Type: gh.Diff})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return "", fmt.Errorf("compare %s...%s: %w", base, head, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("compare %s...%s: %w", base, head, err)
	}
	return d, nil
}

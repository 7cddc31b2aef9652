package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	gh "github.com/google/go-github/v62/github"
)

// ErrNotFound is returned for a path that does not exist at a ref.
var ErrNotFound = errors.New("not found")

// FileAt returns the content of the file at path on ref (a branch or a
// commit). A path that does not exist is an error satisfying
// errors.Is(err, ErrNotFound); a directory is an error.
func (c *Client) FileAt(ctx context.Context, repo Repo, ref, path string) ([]byte, error) {
	f, _, resp, err := c.gh.Repositories.GetContents(ctx, repo.Owner, repo.Name, path, &gh.RepositoryContentGetOptions{Ref: ref})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("%s at %s: %w", path, ref, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, ref, err)
	}
	if f == nil {
		return nil, fmt.Errorf("read %s at %s: it is a directory", path, ref)
	}
	s, err := f.GetContent()
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, ref, err)
	}
	return []byte(s), nil
}

// Tree lists the files under dir on ref, recursively. A dir that does not
// exist gives ErrNotFound.
func (c *Client) Tree(ctx context.Context, repo Repo, ref, dir string) ([]string, error) {
	f, entries, resp, err := c.gh.Repositories.GetContents(ctx, repo.Owner, repo.Name, dir, &gh.RepositoryContentGetOptions{Ref: ref})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("%s at %s: %w", dir, ref, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("list %s at %s: %w", dir, ref, err)
	}
	if f != nil {
		return []string{f.GetPath()}, nil
	}
	var out []string
	for _, e := range entries {
		switch e.GetType() {
		case "dir":
			sub, err := c.Tree(ctx, repo, ref, e.GetPath())
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		case "file":
			out = append(out, e.GetPath())
		}
	}
	return out, nil
}

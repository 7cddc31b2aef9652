package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/org/sandbox-action/pkg/redact"
)

// DefaultAPIURL is GitHub.com's REST API.
const DefaultAPIURL = "https://api.github.com"

// Options configure a Client.
type Options struct {
	// APIURL is GITHUB_API_URL: https://api.github.com, or
	// https://HOST/api/v3 on GitHub Enterprise Server. Empty means GitHub.com.
	APIURL string
	// Token authenticates every request (the action's github-token).
	Token string
	// Secrets are values that must never appear in anything posted (API
	// keys, the session token). The token is always among them.
	Secrets []string
	// Deadline bounds retries: no retry waits past it (zero: only the
	// context's deadline bounds them). Set it to the run's time left.
	Deadline time.Time
	// Transport is the HTTP transport under the retries and rate limiting;
	// nil means http.DefaultTransport.
	Transport http.RoundTripper
	// MinBackoff is the first wait after a 5xx (default 1 s); it doubles on
	// each further attempt, up to 30 s.
	MinBackoff time.Duration
	// MaxRetries bounds the attempts after the first (default 6).
	MaxRetries int
	// Logf receives one line per retry; nil discards them.
	Logf func(format string, args ...any)
	// DryRun makes every write (reaction, reply, status comment, review)
	// a no-op recorded for DryRunPosts; reads still go to GitHub.
	DryRun bool
}

// Client talks to GitHub for the action. Everything it posts is scrubbed of
// Options.Secrets.
type Client struct {
	gh    *gh.Client
	scrub func(string) string
	// dry is set in dry-run mode.
	dry *dryRun
}

// New returns a Client for o.
func New(o Options) (*Client, error) {
	base, upload, err := apiURLs(o.APIURL)
	if err != nil {
		return nil, err
	}
	httpClient := &http.Client{Transport: newTransport(o.Transport, o)}
	c := gh.NewClient(httpClient)
	if o.Token != "" {
		c = c.WithAuthToken(o.Token)
	}
	// Set directly rather than with WithEnterpriseURLs, which would append
	// /api/v3/ to a loopback test server's URL too.
	c.BaseURL, c.UploadURL = base, upload
	c.UserAgent = "sandbox-action"
	secrets := append([]string{o.Token}, o.Secrets...)
	cl := &Client{gh: c, scrub: redact.New(secrets...).Scrub}
	if o.DryRun {
		cl.dry = &dryRun{}
	}
	return cl, nil
}

// apiURLs derives the REST and upload URLs from GITHUB_API_URL.
func apiURLs(api string) (base, upload *url.URL, err error) {
	if api == "" {
		api = DefaultAPIURL
	}
	base, err = url.Parse(api)
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, nil, fmt.Errorf("GITHUB_API_URL %q: want an http(s) URL such as %s", api, DefaultAPIURL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	upload = &url.URL{Scheme: base.Scheme, Host: base.Host, Path: "/"}
	switch {
	case base.Host == "api.github.com":
		upload.Host = "uploads.github.com"
	case strings.HasSuffix(base.Path, "/api/v3/"):
		// GitHub Enterprise Server: https://HOST/api/v3 and /api/uploads.
		upload.Path = strings.TrimSuffix(base.Path, "v3/") + "uploads/"
	default:
		upload.Path = base.Path
	}
	return base, upload, nil
}

// Scrub returns s with every known secret masked: what the client would post.
func (c *Client) Scrub(s string) string { return c.scrub(s) }

// StatusCode returns the HTTP status of a GitHub API error, 0 if err is not
// one.
func StatusCode(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	var rl *gh.RateLimitError
	if errors.As(err, &rl) && rl.Response != nil {
		return rl.Response.StatusCode
	}
	var ab *gh.AbuseRateLimitError
	if errors.As(err, &ab) && ab.Response != nil {
		return ab.Response.StatusCode
	}
	var gu *GiveUpError
	if errors.As(err, &gu) {
		return gu.Status
	}
	return 0
}

// IsReadOnly reports whether err is GitHub refusing a write to the token:
// what a pull_request run from a fork gets ("Resource not accessible by
// integration"). Rate limits, which are 403s too, are not.
func IsReadOnly(err error) bool {
	var gu *GiveUpError
	var ab *gh.AbuseRateLimitError
	var rl *gh.RateLimitError
	if errors.As(err, &gu) || errors.As(err, &ab) || errors.As(err, &rl) {
		return false
	}
	return StatusCode(err) == http.StatusForbidden
}

// PullRequest fetches a pull request.
func (c *Client) PullRequest(ctx context.Context, repo Repo, number int) (*PullRequest, error) {
	p, _, err := c.gh.PullRequests.Get(ctx, repo.Owner, repo.Name, number)
	if err != nil {
		return nil, fmt.Errorf("get pull request %s#%d: %w", repo, number, err)
	}
	pr, err := pullRequestOf(p, "pull request")
	if err != nil {
		return nil, fmt.Errorf("get pull request %s#%d: %w", repo, number, err)
	}
	return pr, nil
}

// Diff fetches the pull request's unified diff.
func (c *Client) Diff(ctx context.Context, repo Repo, number int) (string, error) {
	d, _, err := c.gh.PullRequests.GetRaw(ctx, repo.Owner, repo.Name, number, gh.RawOptions{Type: gh.Diff})
	if err != nil {
		return "", fmt.Errorf("get diff of %s#%d: %w", repo, number, err)
	}
	return d, nil
}

// File is a file a pull request changes.
type File struct {
	Path string
	// PreviousPath is set for renames.
	PreviousPath string
	// Status: added, removed, modified, renamed, copied, changed, unchanged.
	Status    string
	Additions int
	Deletions int
	// Patch is the file's part of the diff; empty for binaries and for
	// files GitHub deems too large.
	Patch string
}

// Files lists every file the pull request changes (all pages).
func (c *Client) Files(ctx context.Context, repo Repo, number int) ([]File, error) {
	fs, err := allPages(func(opts *gh.ListOptions) ([]*gh.CommitFile, *gh.Response, error) {
		return c.gh.PullRequests.ListFiles(ctx, repo.Owner, repo.Name, number, opts)
	})
	if err != nil {
		return nil, fmt.Errorf("list files of %s#%d: %w", repo, number, err)
	}
	out := make([]File, 0, len(fs))
	for _, f := range fs {
		out = append(out, File{
			Path: f.GetFilename(), PreviousPath: f.GetPreviousFilename(), Status: f.GetStatus(),
			Additions: f.GetAdditions(), Deletions: f.GetDeletions(), Patch: f.GetPatch(),
		})
	}
	return out, nil
}

// allPages calls list once per page of a listing and returns every item.
func allPages[T any](list func(*gh.ListOptions) ([]T, *gh.Response, error)) ([]T, error) {
	var out []T
	opts := &gh.ListOptions{PerPage: 100}
	for {
		items, resp, err := list(opts)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// Permission returns login's permission on repo. Someone who is not a
// collaborator has PermissionNone (GitHub answers 404 for them on some
// plans, "none" on others).
func (c *Client) Permission(ctx context.Context, repo Repo, login string) (Permission, error) {
	u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", url.PathEscape(repo.Owner), url.PathEscape(repo.Name), url.PathEscape(login))
	req, err := c.gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return PermissionNone, err
	}
	// go-github's RepositoryPermissionLevel (v62) lacks role_name, which is
	// the only field that tells triage and maintain apart.
	var body struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
	}
	if _, err := c.gh.Do(ctx, req, &body); err != nil {
		if StatusCode(err) == http.StatusNotFound {
			return PermissionNone, nil
		}
		return PermissionNone, fmt.Errorf("get permission of %s on %s: %w", login, repo, err)
	}
	return permissionOf(body.RoleName, body.Permission), nil
}

// Authorize decides whether the comment of ev may trigger a run: not a bot,
// not the action's own comment, and its author has at least required on
// the repository. An error means the permission could not be read.
func (c *Client) Authorize(ctx context.Context, ev *Event, required Permission) (Refusal, error) {
	if r := screen(ev.Comment); r.Refused() {
		return r, nil
	}
	login := ev.Comment.Author.Login
	have, err := c.Permission(ctx, ev.Repo, login)
	if err != nil {
		return Refusal{}, err
	}
	if !have.AtLeast(required) {
		return Refusal{
			Reason: fmt.Sprintf("%s has %s permission on %s; %s is required", login, have, ev.Repo, required),
			Reply:  refusedText(login, have, required),
		}, nil
	}
	return Refusal{}, nil
}

// Acknowledge adds the 👀 reaction to a comment the action will act on.
// Issue comments and review comments have different reaction endpoints.
func (c *Client) Acknowledge(ctx context.Context, repo Repo, comment *Comment) error {
	if c.dry != nil {
		c.dry.add(Post{Kind: "reaction", Target: fmt.Sprintf("%s comment %d", repo, comment.ID), Body: "eyes"})
		return nil
	}
	var err error
	switch comment.Kind {
	case CommentReview:
		_, _, err = c.gh.Reactions.CreatePullRequestCommentReaction(ctx, repo.Owner, repo.Name, comment.ID, "eyes")
	default:
		_, _, err = c.gh.Reactions.CreateIssueCommentReaction(ctx, repo.Owner, repo.Name, comment.ID, "eyes")
	}
	if err != nil {
		return fmt.Errorf("react to comment %d: %w", comment.ID, err)
	}
	return nil
}

// Reply posts a comment in the pull request's conversation (help, unknown
// command, refusals), marked as the action's own so that it never triggers
// a run. It returns the comment's id.
func (c *Client) Reply(ctx context.Context, repo Repo, number int, body string) (int64, error) {
	body = replyMarker + "\n" + c.scrub(body)
	if c.dry != nil {
		c.dry.add(Post{Kind: "reply", Target: fmt.Sprintf("%s#%d", repo, number), Body: body})
		return 0, nil
	}
	cm, _, err := c.gh.Issues.CreateComment(ctx, repo.Owner, repo.Name, number, &gh.IssueComment{Body: &body})
	if err != nil {
		return 0, fmt.Errorf("comment on %s#%d: %w", repo, number, err)
	}
	return cm.GetID(), nil
}

// Self returns the account the token acts as. An app's installation token
// (GITHUB_TOKEN) may not read /user: then the zero User and no error, and
// the status comment is found among bots' comments.
func (c *Client) Self(ctx context.Context) (User, error) {
	u, _, err := c.gh.Users.Get(ctx, "")
	if err != nil {
		if s := StatusCode(err); s == http.StatusForbidden || s == http.StatusNotFound {
			return User{}, nil
		}
		return User{}, fmt.Errorf("get the token's user: %w", err)
	}
	return userOf(u), nil
}

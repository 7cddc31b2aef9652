package fakegithub

import "time"

// State is everything the fake knows. It is also the JSON a standalone fake
// is seeded with (POST /_fake/state) and dumps (GET /_fake/state).
type State struct {
	// Users are the accounts that exist. A user with a Token is who a
	// request carrying that token acts as.
	Users []User `json:"users,omitempty"`
	// Permissions maps "owner/repo" to login to role: none, read, triage,
	// write, maintain, admin. A user not listed has "read" (a public repo).
	Permissions map[string]map[string]string `json:"permissions,omitempty"`
	Pulls       []*Pull                      `json:"pulls,omitempty"`
	// Comments are issue comments (the PR conversation).
	Comments []*Comment `json:"comments,omitempty"`
	// ReviewComments are comments on lines of a PR's diff (only their ids
	// matter: reactions go to them).
	ReviewComments []*Comment  `json:"review_comments,omitempty"`
	Reactions      []*Reaction `json:"reactions,omitempty"`
	Reviews        []*Review   `json:"reviews,omitempty"`
	// Contents are files of repositories at refs (the contents API).
	Contents []*Content `json:"contents,omitempty"`
	// Comparisons are the diffs between two commits (the compare API).
	Comparisons []*Comparison `json:"comparisons,omitempty"`
}

// User is a GitHub account.
type User struct {
	Login string `json:"login"`
	// Type is "User" or "Bot".
	Type string `json:"type,omitempty"`
	ID   int64  `json:"id,omitempty"`
	// Token, when set, authenticates as this user.
	Token string `json:"token,omitempty"`
	// ReadOnly makes every write with this user's token answer 403
	// "Resource not accessible by integration", as a fork PR's token does.
	ReadOnly bool `json:"read_only,omitempty"`
}

// Branch is a pull request's head or base.
type Branch struct {
	Ref  string `json:"ref"`
	SHA  string `json:"sha"`
	Repo string `json:"repo"`
}

// Pull is a pull request.
type Pull struct {
	Repo   string `json:"repo"`
	Number int    `json:"number"`
	Title  string `json:"title,omitempty"`
	// Body is sent as null when nil.
	Body   *string `json:"body,omitempty"`
	Draft  bool    `json:"draft,omitempty"`
	State  string  `json:"state,omitempty"`
	Author string  `json:"author,omitempty"`
	Head   Branch  `json:"head"`
	Base   Branch  `json:"base"`
	// Diff is served for Accept: application/vnd.github.v3.diff.
	Diff  string `json:"diff,omitempty"`
	Files []File `json:"files,omitempty"`
}

// File is a changed file of a pull request.
type File struct {
	Filename         string `json:"filename"`
	PreviousFilename string `json:"previous_filename,omitempty"`
	Status           string `json:"status"`
	Additions        int    `json:"additions"`
	Deletions        int    `json:"deletions"`
	Changes          int    `json:"changes"`
	Patch            string `json:"patch,omitempty"`
}

// Comment is an issue comment or a review comment.
type Comment struct {
	ID        int64     `json:"id"`
	Repo      string    `json:"repo"`
	Issue     int       `json:"issue"`
	Body      string    `json:"body"`
	User      string    `json:"user"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Reaction is a reaction to a comment.
type Reaction struct {
	ID int64 `json:"id"`
	// Subject is "issue_comment" or "review_comment".
	Subject   string `json:"subject"`
	CommentID int64  `json:"comment_id"`
	Content   string `json:"content"`
	User      string `json:"user"`
}

// Review is a submitted pull request review.
type Review struct {
	ID       int64           `json:"id"`
	Repo     string          `json:"repo"`
	Pull     int             `json:"pull"`
	User     string          `json:"user"`
	CommitID string          `json:"commit_id"`
	Body     string          `json:"body"`
	Event    string          `json:"event"`
	State    string          `json:"state"`
	Comments []ReviewComment `json:"comments,omitempty"`
}

// ReviewComment is an inline comment as posted with a review.
type ReviewComment struct {
	Path      string `json:"path"`
	Line      int    `json:"line,omitempty"`
	Side      string `json:"side,omitempty"`
	StartLine int    `json:"start_line,omitempty"`
	StartSide string `json:"start_side,omitempty"`
	Position  int    `json:"position,omitempty"`
	Body      string `json:"body"`
}

// Request is one request the fake received.
type Request struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Query  string `json:"query,omitempty"`
	Accept string `json:"accept,omitempty"`
	Body   string `json:"body,omitempty"`
	// Status is what the fake answered.
	Status int       `json:"status"`
	Time   time.Time `json:"time"`
}

// Fault makes matching requests fail. Faults are tried in the order added;
// each answers Times requests (default 1) and is then spent.
type Fault struct {
	// Method and Path select requests; Path is a path.Match pattern
	// ("/repos/*/*/issues/*/comments"). Empty matches all.
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	// BodyContains, when set, only matches requests whose body contains it.
	BodyContains string `json:"body_contains,omitempty"`
	Times        int    `json:"times,omitempty"`
	Status       int    `json:"status"`
	// Headers are added to the answer (Retry-After, x-ratelimit-reset…).
	Headers map[string]string `json:"headers,omitempty"`
	// Body is the answer's body; empty means GitHub's usual JSON message for
	// Status.
	Body string `json:"body,omitempty"`
}

// Package github is the action's only way to GitHub: it reads the event that
// started a run, parses the commands people write in comments, decides who may
// trigger a run, keeps the one status comment of a pull request and posts
// reviews. Everything it posts is scrubbed of the secrets it was given.
//
// go-github is imported as gh so that this package's own names (Client,
// Event, PullRequest) read as the action's concepts, not the API's.
package github

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v62/github"
)

// Kind is what an event asks the action to do.
type Kind string

const (
	// KindReview: a pull request was opened or got new commits; review it.
	KindReview Kind = "review"
	// KindCommand: a new comment on a pull request, which may hold a command
	// (see ParseCommand).
	KindCommand Kind = "command"
	// KindTask: a workflow_dispatch run with a task prompt and perhaps a PR.
	KindTask Kind = "task"
	// KindSkip: a supported event that asks for nothing (a draft, an edited
	// comment, a comment on a plain issue…); Event.Reason says why.
	KindSkip Kind = "skip"
	// KindUnsupported: an event the action does not handle; Event.Reason is
	// the notice to show, naming what is supported.
	KindUnsupported Kind = "unsupported"
)

// Supported names the events and actions the action handles, for notices.
const Supported = "pull_request (opened, synchronize, reopened, ready_for_review), " +
	"issue_comment and pull_request_review_comment on a pull request (created), " +
	"workflow_dispatch"

// reviewActions are the pull_request actions that ask for a review.
var reviewActions = map[string]bool{"opened": true, "synchronize": true, "reopened": true, "ready_for_review": true}

// Repo names a repository.
type Repo struct {
	Owner string
	Name  string
}

// String returns "owner/name".
func (r Repo) String() string { return r.Owner + "/" + r.Name }

// ParseRepo parses "owner/name", as in GITHUB_REPOSITORY.
func ParseRepo(s string) (Repo, error) {
	owner, name, ok := strings.Cut(s, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return Repo{}, fmt.Errorf("repository %q: want owner/name", s)
	}
	return Repo{Owner: owner, Name: name}, nil
}

// User is an account that acted on GitHub.
type User struct {
	Login string
	// Type is GitHub's account type: "User", "Bot" or "Organization".
	Type string
}

// IsBot reports whether the account is an app or bot. Both signals are
// checked because GitHub Apps' comments carry type Bot while some bot users
// (machine accounts) only carry the [bot] suffix in their login.
func (u User) IsBot() bool {
	return strings.EqualFold(u.Type, "Bot") || strings.HasSuffix(strings.ToLower(u.Login), "[bot]")
}

// PullRequest is what the action needs to know about a pull request.
type PullRequest struct {
	Number int
	Title  string
	// Body is empty when GitHub sends null.
	Body    string
	Draft   bool
	State   string
	Author  User
	HTMLURL string
	// HeadSHA is empty when the event did not carry the pull request itself
	// (an issue_comment or a workflow_dispatch): fetch it with
	// Client.PullRequest.
	HeadSHA string
	HeadRef string
	// HeadRepo is the full name of the head repository; empty when the fork
	// it came from was deleted.
	HeadRepo string
	BaseSHA  string
	BaseRef  string
	BaseRepo string
}

// IsFork reports whether the head branch lives in another repository. Such
// a pull_request run gets a read-only token and no secrets.
func (p *PullRequest) IsFork() bool {
	return p.HeadRepo == "" || !strings.EqualFold(p.HeadRepo, p.BaseRepo)
}

// Complete reports whether the head and base are known (see HeadSHA).
func (p *PullRequest) Complete() bool { return p.HeadSHA != "" && p.BaseRepo != "" }

// CommentKind says which API a comment belongs to: reactions and replies go
// to different endpoints for each.
type CommentKind string

const (
	// CommentIssue is a comment in the PR's conversation (issue_comment).
	CommentIssue CommentKind = "issue"
	// CommentReview is a comment on a line of the diff
	// (pull_request_review_comment).
	CommentReview CommentKind = "review"
)

// Comment is the comment an event is about.
type Comment struct {
	ID      int64
	Kind    CommentKind
	Body    string
	Author  User
	HTMLURL string
}

// Task is what a workflow_dispatch run was asked to do.
type Task struct {
	// Prompt is the "prompt" input, if the workflow declares one.
	Prompt string
	// PR is the pull request number from the "pr" (or "pr-number",
	// "pr_number", "pull-request") input; 0 when none.
	PR int
	// Ref is the branch or tag the workflow runs on.
	Ref string
	// Inputs are all the inputs as strings.
	Inputs map[string]string
}

// Event is a parsed GitHub event: what it asks for and what it is about.
type Event struct {
	// Name is GITHUB_EVENT_NAME; Action the payload's action.
	Name   string
	Action string
	Kind   Kind
	// Reason says why a KindSkip or KindUnsupported event is not acted on.
	Reason string
	Repo   Repo
	Sender User
	// PR is set for reviews, commands and tasks naming a PR (see
	// PullRequest.Complete).
	PR      *PullRequest
	Comment *Comment
	Task    *Task
}

// ReadEvent parses the event of the running workflow from GITHUB_EVENT_NAME
// and the file at GITHUB_EVENT_PATH.
func ReadEvent(getenv func(string) string) (*Event, error) {
	name := getenv("GITHUB_EVENT_NAME")
	if name == "" {
		return nil, errors.New("GITHUB_EVENT_NAME is not set: not running in GitHub Actions?")
	}
	path := getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return nil, errors.New("GITHUB_EVENT_PATH is not set")
	}
	payload, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("GITHUB_EVENT_PATH: %w", err)
	}
	ev, err := ParseEvent(name, payload)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ev, nil
}

// ParseEvent turns an event name and its webhook payload into an Event. An
// event the action does not handle is not an error: it comes back as
// KindUnsupported. A payload that cannot be what its name says is an error
// naming the field.
func ParseEvent(name string, payload []byte) (*Event, error) {
	switch name {
	case "pull_request", "issue_comment", "pull_request_review_comment", "workflow_dispatch":
	case "":
		return nil, errors.New("event name is empty")
	default:
		return &Event{Name: name, Kind: KindUnsupported, Reason: unsupported(name)}, nil
	}
	if !json.Valid(payload) {
		return nil, fmt.Errorf("%s payload: not valid JSON", name)
	}
	parsed, err := gh.ParseWebHook(name, payload)
	if err != nil {
		return nil, fmt.Errorf("%s payload: %w", name, err)
	}
	var ev *Event
	switch p := parsed.(type) {
	case *gh.PullRequestEvent:
		ev, err = pullRequestEvent(p)
	case *gh.IssueCommentEvent:
		ev, err = issueCommentEvent(p)
	case *gh.PullRequestReviewCommentEvent:
		ev, err = reviewCommentEvent(p)
	case *gh.WorkflowDispatchEvent:
		ev, err = dispatchEvent(p)
	default:
		return nil, fmt.Errorf("%s payload: unexpected type %T", name, parsed)
	}
	if err != nil {
		return nil, fmt.Errorf("%s payload: %w", name, err)
	}
	ev.Name = name
	return ev, nil
}

func unsupported(name string) string {
	msg := fmt.Sprintf("event %q is not supported; supported: %s", name, Supported)
	if name == "pull_request_target" {
		// pull_request_target runs with secrets and a write token on code
		// from forks: the classic way to leak both. Say so rather than run.
		msg += ". pull_request_target is refused on purpose: it gives a fork's code the repository's secrets; use pull_request"
	}
	return msg
}

func pullRequestEvent(p *gh.PullRequestEvent) (*Event, error) {
	repo, err := repoOf(p.Repo)
	if err != nil {
		return nil, err
	}
	if p.PullRequest == nil {
		return nil, errors.New("pull_request: missing")
	}
	pr, err := pullRequestOf(p.PullRequest, "pull_request")
	if err != nil {
		return nil, err
	}
	ev := &Event{Action: p.GetAction(), Repo: repo, Sender: userOf(p.Sender), PR: pr, Kind: KindReview}
	switch {
	case !reviewActions[ev.Action]:
		ev.Kind, ev.Reason = KindSkip, fmt.Sprintf("pull_request action %q needs no review (reviews run on opened, synchronize, reopened, ready_for_review)", ev.Action)
	case pr.Draft:
		ev.Kind, ev.Reason = KindSkip, fmt.Sprintf("pull request #%d is a draft; it is reviewed when marked ready for review", pr.Number)
	}
	return ev, nil
}

func issueCommentEvent(p *gh.IssueCommentEvent) (*Event, error) {
	repo, err := repoOf(p.Repo)
	if err != nil {
		return nil, err
	}
	if p.Issue == nil {
		return nil, errors.New("issue: missing")
	}
	if p.Comment == nil {
		return nil, errors.New("comment: missing")
	}
	ev := &Event{Action: p.GetAction(), Repo: repo, Sender: userOf(p.Sender)}
	if p.Issue.PullRequestLinks == nil {
		ev.Kind, ev.Reason = KindSkip, fmt.Sprintf("comment is on issue #%d, not on a pull request", p.Issue.GetNumber())
		return ev, nil
	}
	if p.Issue.GetNumber() <= 0 {
		return nil, errors.New("issue.number: missing")
	}
	c := p.Comment
	if c.GetID() == 0 {
		return nil, errors.New("comment.id: missing")
	}
	ev.Comment = &Comment{ID: c.GetID(), Kind: CommentIssue, Body: c.GetBody(), Author: userOf(c.User), HTMLURL: c.GetHTMLURL()}
	// The issue carries the PR's number, title, body and author, but not its
	// branches: Client.PullRequest completes it.
	ev.PR = &PullRequest{
		Number: p.Issue.GetNumber(), Title: p.Issue.GetTitle(), Body: p.Issue.GetBody(),
		Draft: p.Issue.GetDraft(), State: p.Issue.GetState(), Author: userOf(p.Issue.User),
		HTMLURL: p.Issue.GetPullRequestLinks().GetHTMLURL(),
	}
	ev.Kind = commentKind(ev)
	return ev, nil
}

func reviewCommentEvent(p *gh.PullRequestReviewCommentEvent) (*Event, error) {
	repo, err := repoOf(p.Repo)
	if err != nil {
		return nil, err
	}
	if p.PullRequest == nil {
		return nil, errors.New("pull_request: missing")
	}
	if p.Comment == nil {
		return nil, errors.New("comment: missing")
	}
	pr, err := pullRequestOf(p.PullRequest, "pull_request")
	if err != nil {
		return nil, err
	}
	c := p.Comment
	if c.GetID() == 0 {
		return nil, errors.New("comment.id: missing")
	}
	ev := &Event{Action: p.GetAction(), Repo: repo, Sender: userOf(p.Sender), PR: pr}
	ev.Comment = &Comment{ID: c.GetID(), Kind: CommentReview, Body: c.GetBody(), Author: userOf(c.User), HTMLURL: c.GetHTMLURL()}
	ev.Kind = commentKind(ev)
	return ev, nil
}

// commentKind only lets new comments through: an edit would run a command a
// second time, and a deleted comment asks for nothing.
func commentKind(ev *Event) Kind {
	if ev.Action != "created" {
		ev.Reason = fmt.Sprintf("comment was %s; only new comments are read for commands", ev.Action)
		return KindSkip
	}
	return KindCommand
}

// prInputs are the workflow_dispatch input names read as a PR number.
var prInputs = []string{"pr", "pr-number", "pr_number", "pull-request", "pull_request"}

func dispatchEvent(p *gh.WorkflowDispatchEvent) (*Event, error) {
	repo, err := repoOf(p.Repo)
	if err != nil {
		return nil, err
	}
	task := &Task{Ref: p.GetRef(), Inputs: map[string]string{}}
	if len(p.Inputs) > 0 && string(p.Inputs) != "null" {
		var raw map[string]any
		if err := json.Unmarshal(p.Inputs, &raw); err != nil {
			return nil, fmt.Errorf("inputs: want an object: %w", err)
		}
		for k, v := range raw {
			switch v := v.(type) {
			case string:
				task.Inputs[k] = v
			case nil:
			default:
				// Booleans and numbers arrive as JSON values; keep their text.
				b, _ := json.Marshal(v)
				task.Inputs[k] = string(b)
			}
		}
	}
	task.Prompt = task.Inputs["prompt"]
	ev := &Event{Action: "", Repo: repo, Sender: userOf(p.Sender), Kind: KindTask, Task: task}
	for _, k := range prInputs {
		v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(task.Inputs[k]), "#"))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("inputs.%s: %q is not a pull request number", k, task.Inputs[k])
		}
		task.PR = n
		ev.PR = &PullRequest{Number: n}
		break
	}
	return ev, nil
}

func repoOf(r *gh.Repository) (Repo, error) {
	if r == nil {
		return Repo{}, errors.New("repository: missing")
	}
	if fn := r.GetFullName(); fn != "" {
		repo, err := ParseRepo(fn)
		if err != nil {
			return Repo{}, fmt.Errorf("repository.full_name: %w", err)
		}
		return repo, nil
	}
	if r.GetOwner().GetLogin() == "" || r.GetName() == "" {
		return Repo{}, errors.New("repository: neither full_name nor owner.login and name")
	}
	return Repo{Owner: r.GetOwner().GetLogin(), Name: r.GetName()}, nil
}

func pullRequestOf(p *gh.PullRequest, field string) (*PullRequest, error) {
	if p.GetNumber() <= 0 {
		return nil, fmt.Errorf("%s.number: missing", field)
	}
	if p.GetHead().GetSHA() == "" {
		return nil, fmt.Errorf("%s.head.sha: missing", field)
	}
	if p.GetBase().GetRepo().GetFullName() == "" {
		return nil, fmt.Errorf("%s.base.repo.full_name: missing", field)
	}
	return &PullRequest{
		Number: p.GetNumber(), Title: p.GetTitle(), Body: p.GetBody(), Draft: p.GetDraft(),
		State: p.GetState(), Author: userOf(p.User), HTMLURL: p.GetHTMLURL(),
		HeadSHA: p.GetHead().GetSHA(), HeadRef: p.GetHead().GetRef(), HeadRepo: p.GetHead().GetRepo().GetFullName(),
		BaseSHA: p.GetBase().GetSHA(), BaseRef: p.GetBase().GetRef(), BaseRepo: p.GetBase().GetRepo().GetFullName(),
	}, nil
}

func userOf(u *gh.User) User {
	return User{Login: u.GetLogin(), Type: u.GetType()}
}

package fakegithub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

func (f *Fake) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /user", f.auth(false, f.getUser))
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}/comments", f.auth(false, f.listComments))
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues/{number}/comments", f.auth(true, f.createComment))
	mux.HandleFunc("PATCH /repos/{owner}/{repo}/issues/comments/{id}", f.auth(true, f.editComment))
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues/comments/{id}/reactions", f.auth(true, f.react("issue_comment")))
	mux.HandleFunc("POST /repos/{owner}/{repo}/pulls/comments/{id}/reactions", f.auth(true, f.react("review_comment")))
	mux.HandleFunc("GET /repos/{owner}/{repo}/collaborators/{user}/permission", f.auth(false, f.permission))
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}", f.auth(false, f.getPull))
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}/files", f.auth(false, f.listFiles))
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}/reviews", f.auth(false, f.listReviews))
	mux.HandleFunc("POST /repos/{owner}/{repo}/pulls/{number}/reviews", f.auth(true, f.createReview))
	mux.HandleFunc("GET /repos/{owner}/{repo}/contents/{path...}", f.auth(false, f.getContents))
	mux.HandleFunc("GET /repos/{owner}/{repo}/compare/{basehead}", f.auth(false, f.compare))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
	})
}

type handler func(w http.ResponseWriter, r *http.Request, me User)

// auth finds who the request acts as: the user whose token it carries
// ("Bearer X" or "token X"). A missing or unknown token is 401; a write
// with a read-only token is 403, as GitHub answers a fork PR's token.
func (f *Fake) auth(write bool, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := r.Header.Get("Authorization")
		tok := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(a, "Bearer "), "token "))
		f.mu.Lock()
		var me User
		found := false
		for _, u := range f.state.Users {
			if u.Token != "" && u.Token == tok {
				me, found = u, true
				break
			}
		}
		f.mu.Unlock()
		if !found {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
			return
		}
		if write && me.ReadOnly {
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest"})
			return
		}
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "4999")
		w.Header().Set("X-RateLimit-Resource", "core")
		h(w, r, me)
	}
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
}

func unprocessable(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Unprocessable Entity", "errors": []string{msg}, "status": "422"})
}

func repoOf(r *http.Request) string { return r.PathValue("owner") + "/" + r.PathValue("repo") }

func intOf(r *http.Request, name string) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return n, err == nil && n > 0
}

// userJSON renders an account the way the API does (the fields the action
// reads, and a few more).
func (f *Fake) userJSON(login string) map[string]any {
	u := User{Login: login, Type: "User"}
	for _, x := range f.state.Users {
		if x.Login == login {
			u = x
		}
	}
	if u.Type == "" {
		u.Type = "User"
	}
	if strings.HasSuffix(u.Login, "[bot]") && u.Type == "User" {
		u.Type = "Bot"
	}
	return map[string]any{"login": u.Login, "id": u.ID, "type": u.Type, "site_admin": false}
}

func (f *Fake) getUser(w http.ResponseWriter, r *http.Request, me User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	writeJSON(w, http.StatusOK, f.userJSON(me.Login))
}

func (f *Fake) commentJSON(r *http.Request, c *Comment, kind string) map[string]any {
	base := "http://" + r.Host
	m := map[string]any{
		"id": c.ID, "node_id": fmt.Sprintf("IC_%d", c.ID), "body": c.Body, "user": f.userJSON(c.User),
		"created_at": c.CreatedAt, "updated_at": c.UpdatedAt, "author_association": "NONE",
	}
	if kind == "issue" {
		m["url"] = fmt.Sprintf("%s/repos/%s/issues/comments/%d", base, c.Repo, c.ID)
		m["html_url"] = fmt.Sprintf("%s/%s/pull/%d#issuecomment-%d", base, c.Repo, c.Issue, c.ID)
		m["issue_url"] = fmt.Sprintf("%s/repos/%s/issues/%d", base, c.Repo, c.Issue)
	}
	return m
}

// page cuts a list GitHub's way: per_page (default 30, at most 100) and
// page, with a Link header naming the next and last pages.
func page[T any](w http.ResponseWriter, r *http.Request, all []T) []T {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	per = min(per, 100)
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	p = max(p, 1)
	last := max((len(all)+per-1)/per, 1)
	link := func(n int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		q.Set("per_page", strconv.Itoa(per))
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	if p < last {
		w.Header().Set("Link", link(p+1, "next")+", "+link(last, "last"))
	}
	lo := min((p-1)*per, len(all))
	hi := min(lo+per, len(all))
	return all[lo:hi]
}

func (f *Fake) listComments(w http.ResponseWriter, r *http.Request, _ User) {
	n, ok := intOf(r, "number")
	if !ok {
		notFound(w)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []map[string]any
	for _, c := range f.state.Comments {
		if c.Repo == repoOf(r) && int64(c.Issue) == n {
			all = append(all, f.commentJSON(r, c, "issue"))
		}
	}
	out := page(w, r, all)
	if out == nil {
		out = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, out)
}

func readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return false
	}
	return true
}

func (f *Fake) createComment(w http.ResponseWriter, r *http.Request, me User) {
	n, ok := intOf(r, "number")
	if !ok {
		notFound(w)
		return
	}
	var in struct {
		Body *string `json:"body"`
	}
	if !readBody(w, r, &in) {
		return
	}
	if !validCommentBody(w, in.Body) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now().UTC()
	c := &Comment{ID: f.id(), Repo: repoOf(r), Issue: int(n), Body: *in.Body, User: me.Login, CreatedAt: now, UpdatedAt: now}
	f.state.Comments = append(f.state.Comments, c)
	writeJSON(w, http.StatusCreated, f.commentJSON(r, c, "issue"))
}

// validCommentBody answers 422 as GitHub does for a missing, empty or
// over-long comment body.
func validCommentBody(w http.ResponseWriter, body *string) bool {
	switch {
	case body == nil || *body == "":
		unprocessable(w, "body is missing")
		return false
	case len([]rune(*body)) > 65536:
		unprocessable(w, "Body is too long (maximum is 65536 characters)")
		return false
	}
	return true
}

func (f *Fake) findComment(r *http.Request) *Comment {
	id, ok := intOf(r, "id")
	if !ok {
		return nil
	}
	for _, c := range f.state.Comments {
		if c.ID == id && c.Repo == repoOf(r) {
			return c
		}
	}
	return nil
}

func (f *Fake) editComment(w http.ResponseWriter, r *http.Request, me User) {
	var in struct {
		Body *string `json:"body"`
	}
	if !readBody(w, r, &in) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.findComment(r)
	if c == nil {
		notFound(w)
		return
	}
	if c.User != me.Login {
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration"})
		return
	}
	if !validCommentBody(w, in.Body) {
		return
	}
	c.Body, c.UpdatedAt = *in.Body, f.now().UTC()
	writeJSON(w, http.StatusOK, f.commentJSON(r, c, "issue"))
}

var reactionContents = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

func (f *Fake) react(subject string) handler {
	return func(w http.ResponseWriter, r *http.Request, me User) {
		id, ok := intOf(r, "id")
		if !ok {
			notFound(w)
			return
		}
		var in struct {
			Content string `json:"content"`
		}
		if !readBody(w, r, &in) {
			return
		}
		if !slices.Contains(reactionContents, in.Content) {
			unprocessable(w, "content is not included in the list")
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		list := f.state.Comments
		if subject == "review_comment" {
			list = f.state.ReviewComments
		}
		if !slices.ContainsFunc(list, func(c *Comment) bool { return c.ID == id && c.Repo == repoOf(r) }) {
			notFound(w)
			return
		}
		for _, x := range f.state.Reactions {
			if x.Subject == subject && x.CommentID == id && x.Content == in.Content && x.User == me.Login {
				writeJSON(w, http.StatusOK, map[string]any{"id": x.ID, "content": x.Content, "user": f.userJSON(me.Login)})
				return
			}
		}
		x := &Reaction{ID: f.id(), Subject: subject, CommentID: id, Content: in.Content, User: me.Login}
		f.state.Reactions = append(f.state.Reactions, x)
		writeJSON(w, http.StatusCreated, map[string]any{"id": x.ID, "content": x.Content, "user": f.userJSON(me.Login)})
	}
}

// legacyPermission maps a role to the permission API's legacy field.
var legacyPermission = map[string]string{"none": "none", "read": "read", "triage": "read", "write": "write", "maintain": "write", "admin": "admin"}

func (f *Fake) permission(w http.ResponseWriter, r *http.Request, _ User) {
	login := r.PathValue("user")
	f.mu.Lock()
	defer f.mu.Unlock()
	role, ok := f.state.Permissions[repoOf(r)][login]
	if !ok {
		role = "read"
	}
	writeJSON(w, http.StatusOK, map[string]any{"permission": legacyPermission[role], "role_name": role, "user": f.userJSON(login)})
}

func (f *Fake) findPull(r *http.Request) *Pull {
	n, ok := intOf(r, "number")
	if !ok {
		return nil
	}
	for _, p := range f.state.Pulls {
		if p.Repo == repoOf(r) && int64(p.Number) == n {
			return p
		}
	}
	return nil
}

func (f *Fake) pullJSON(r *http.Request, p *Pull) map[string]any {
	base := "http://" + r.Host
	branch := func(b Branch) map[string]any {
		owner, _, _ := strings.Cut(b.Repo, "/")
		m := map[string]any{"ref": b.Ref, "sha": b.SHA, "label": owner + ":" + b.Ref}
		if b.Repo != "" {
			_, name, _ := strings.Cut(b.Repo, "/")
			m["repo"] = map[string]any{"full_name": b.Repo, "name": name, "owner": f.userJSON(owner)}
		} else {
			m["repo"] = nil
		}
		return m
	}
	state := p.State
	if state == "" {
		state = "open"
	}
	return map[string]any{
		"number": p.Number, "title": p.Title, "body": p.Body, "draft": p.Draft, "state": state,
		"user": f.userJSON(p.Author), "head": branch(p.Head), "base": branch(p.Base),
		"url":      fmt.Sprintf("%s/repos/%s/pulls/%d", base, p.Repo, p.Number),
		"html_url": fmt.Sprintf("%s/%s/pull/%d", base, p.Repo, p.Number),
	}
}

func (f *Fake) getPull(w http.ResponseWriter, r *http.Request, _ User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.findPull(r)
	if p == nil {
		notFound(w)
		return
	}
	switch accept := r.Header.Get("Accept"); {
	case strings.Contains(accept, "diff"):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(p.Diff))
	default:
		writeJSON(w, http.StatusOK, f.pullJSON(r, p))
	}
}

func (f *Fake) listFiles(w http.ResponseWriter, r *http.Request, _ User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.findPull(r)
	if p == nil {
		notFound(w)
		return
	}
	out := page(w, r, p.Files)
	if out == nil {
		out = []File{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Fake) reviewJSON(rv *Review) map[string]any {
	return map[string]any{"id": rv.ID, "body": rv.Body, "commit_id": rv.CommitID, "state": rv.State, "user": f.userJSON(rv.User)}
}

func (f *Fake) listReviews(w http.ResponseWriter, r *http.Request, _ User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.findPull(r)
	if p == nil {
		notFound(w)
		return
	}
	var all []map[string]any
	for _, rv := range f.state.Reviews {
		if rv.Repo == p.Repo && rv.Pull == p.Number {
			all = append(all, f.reviewJSON(rv))
		}
	}
	out := page(w, r, all)
	if out == nil {
		out = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, out)
}

var reviewStates = map[string]string{"COMMENT": "COMMENTED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "APPROVE": "APPROVED", "": "PENDING"}

// createReview checks a review the way GitHub does where it matters to the
// action: a known event, a body where one is required, every inline comment
// with a path, a line (or position) and a body.
func (f *Fake) createReview(w http.ResponseWriter, r *http.Request, me User) {
	var in struct {
		CommitID string          `json:"commit_id"`
		Body     string          `json:"body"`
		Event    string          `json:"event"`
		Comments []ReviewComment `json:"comments"`
	}
	if !readBody(w, r, &in) {
		return
	}
	state, ok := reviewStates[in.Event]
	if !ok {
		unprocessable(w, fmt.Sprintf("event %q is not one of COMMENT, REQUEST_CHANGES, APPROVE", in.Event))
		return
	}
	if (in.Event == "COMMENT" || in.Event == "REQUEST_CHANGES") && in.Body == "" && len(in.Comments) == 0 {
		unprocessable(w, "Body is required for this event")
		return
	}
	for i, c := range in.Comments {
		if c.Path == "" || c.Body == "" || (c.Line <= 0 && c.Position <= 0) {
			unprocessable(w, fmt.Sprintf("comments[%d]: path, body and line are required", i))
			return
		}
		if c.StartLine > 0 && c.StartLine > c.Line {
			unprocessable(w, fmt.Sprintf("comments[%d]: start_line must precede line", i))
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.findPull(r)
	if p == nil {
		notFound(w)
		return
	}
	if in.CommitID == "" {
		in.CommitID = p.Head.SHA
	}
	rv := &Review{ID: f.id(), Repo: p.Repo, Pull: p.Number, User: me.Login, CommitID: in.CommitID, Body: in.Body, Event: in.Event, State: state, Comments: in.Comments}
	f.state.Reviews = append(f.state.Reviews, rv)
	writeJSON(w, http.StatusOK, f.reviewJSON(rv))
}

package fakegithub

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func do(t *testing.T, method, url, token, body string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	assert.NilError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	assert.NilError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

func TestAuth(t *testing.T) {
	s := New(t)
	code, _, body := do(t, "GET", s.URL+"/user", "", "")
	assert.Equal(t, code, http.StatusUnauthorized)
	assert.Check(t, is.Contains(body, "Bad credentials"))
	code, _, body = do(t, "GET", s.URL+"/user", DefaultToken, "")
	assert.Equal(t, code, http.StatusOK)
	assert.Check(t, is.Contains(body, `"login": "github-actions[bot]"`))
	assert.Check(t, is.Contains(body, `"type": "Bot"`))

	s.AddUser(User{Login: "forked", Type: "Bot", Token: "ro", ReadOnly: true})
	code, _, body = do(t, "POST", s.URL+"/repos/o/r/issues/1/comments", "ro", `{"body":"x"}`)
	assert.Equal(t, code, http.StatusForbidden)
	assert.Check(t, is.Contains(body, "Resource not accessible by integration"))
	code, _, _ = do(t, "GET", s.URL+"/repos/o/r/issues/1/comments", "ro", "")
	assert.Equal(t, code, http.StatusOK, "a read-only token still reads")
}

func TestCommentsPaginateAndEdit(t *testing.T) {
	s := New(t)
	for range 5 {
		s.AddComment("o/r", 1, "someone", "hi")
	}
	s.AddComment("o/r", 2, "someone", "other PR")
	code, h, body := do(t, "GET", s.URL+"/repos/o/r/issues/1/comments?per_page=2&page=2", DefaultToken, "")
	assert.Equal(t, code, http.StatusOK)
	var page []map[string]any
	assert.NilError(t, json.Unmarshal([]byte(body), &page))
	assert.Equal(t, len(page), 2)
	assert.Check(t, is.Contains(h.Get("Link"), `page=3&per_page=2>; rel="next"`))
	assert.Check(t, is.Contains(h.Get("Link"), `rel="last"`))

	code, _, body = do(t, "POST", s.URL+"/repos/o/r/issues/1/comments", DefaultToken, `{"body":"mine"}`)
	assert.Equal(t, code, http.StatusCreated)
	var c struct {
		ID   int64 `json:"id"`
		User struct {
			Login string `json:"login"`
		} `json:"user"`
	}
	assert.NilError(t, json.Unmarshal([]byte(body), &c))
	assert.Equal(t, c.User.Login, "github-actions[bot]")

	id := s.Comments("o/r", 1)[0].ID
	code, _, _ = do(t, "PATCH", s.URL+"/repos/o/r/issues/comments/"+itoa(id), DefaultToken, `{"body":"not yours"}`)
	assert.Equal(t, code, http.StatusForbidden, "only the author edits")
	code, _, _ = do(t, "PATCH", s.URL+"/repos/o/r/issues/comments/"+itoa(c.ID), DefaultToken, `{"body":"edited"}`)
	assert.Equal(t, code, http.StatusOK)
	got := s.Comments("o/r", 1)
	assert.Equal(t, got[len(got)-1].Body, "edited")
	code, _, _ = do(t, "PATCH", s.URL+"/repos/o/r/issues/comments/999999", DefaultToken, `{"body":"x"}`)
	assert.Equal(t, code, http.StatusNotFound)
	code, _, body = do(t, "POST", s.URL+"/repos/o/r/issues/1/comments", DefaultToken, `{"body":"`+strings.Repeat("a", 65537)+`"}`)
	assert.Equal(t, code, http.StatusUnprocessableEntity)
	assert.Check(t, is.Contains(body, "too long"))
	code, _, _ = do(t, "POST", s.URL+"/repos/o/r/issues/1/comments", DefaultToken, `{"body":`)
	assert.Equal(t, code, http.StatusBadRequest)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestPullDiffAndEnterprisePrefix(t *testing.T) {
	s := New(t)
	s.AddPull(&Pull{Repo: "o/r", Number: 3, Head: Branch{SHA: "abc", Repo: "fork/r"}, Base: Branch{Repo: "o/r"}, Diff: "diff --git a/x b/x\n"})
	code, _, body := do(t, "GET", s.URL+"/api/v3/repos/o/r/pulls/3", DefaultToken, "")
	assert.Equal(t, code, http.StatusOK)
	assert.Check(t, is.Contains(body, `"full_name": "fork/r"`))
	assert.Check(t, is.Contains(body, `"body": null`))
	code, _, body = do(t, "GET", s.URL+"/repos/o/r/pulls/3", DefaultToken, "", "Accept", "application/vnd.github.v3.diff")
	assert.Equal(t, code, http.StatusOK)
	assert.Equal(t, body, "diff --git a/x b/x\n")
	reqs := s.Requests()
	assert.Equal(t, reqs[0].Path, "/repos/o/r/pulls/3", "recorded without the Enterprise prefix")
	code, _, _ = do(t, "GET", s.URL+"/repos/o/r/pulls/4", DefaultToken, "")
	assert.Equal(t, code, http.StatusNotFound)
	code, _, _ = do(t, "GET", s.URL+"/repos/o/r/unknown", DefaultToken, "")
	assert.Equal(t, code, http.StatusNotFound)
}

func TestPermissionRoles(t *testing.T) {
	s := New(t)
	s.SetPermission("o/r", "tri", "triage")
	for _, tc := range []struct{ user, perm, role string }{
		{"tri", "read", "triage"},
		{"stranger", "read", "read"},
	} {
		_, _, body := do(t, "GET", s.URL+"/repos/o/r/collaborators/"+tc.user+"/permission", DefaultToken, "")
		var got struct{ Permission, RoleName string }
		var raw map[string]any
		assert.NilError(t, json.Unmarshal([]byte(body), &raw))
		got.Permission, got.RoleName = raw["permission"].(string), raw["role_name"].(string)
		assert.Equal(t, got.Permission, tc.perm)
		assert.Equal(t, got.RoleName, tc.role)
	}
}

func TestReviewsValidated(t *testing.T) {
	s := New(t)
	s.AddPull(&Pull{Repo: "o/r", Number: 1, Head: Branch{SHA: "abc", Repo: "o/r"}, Base: Branch{Repo: "o/r"}})
	for _, tc := range []struct {
		body string
		code int
		want string
	}{
		{`{"event":"MERGE","body":"x"}`, 422, `event \"MERGE\"`},
		{`{"event":"COMMENT"}`, 422, "Body is required"},
		{`{"event":"COMMENT","body":"x","comments":[{"path":"a","body":"b"}]}`, 422, "comments[0]: path, body and line are required"},
		{`{"event":"COMMENT","body":"x","comments":[{"path":"a","body":"b","line":2,"start_line":5}]}`, 422, "start_line must precede line"},
		{`{"event":"COMMENT","body":"x","comments":[{"path":"a","body":"b","line":2}]}`, 200, `"state": "COMMENTED"`},
	} {
		code, _, body := do(t, "POST", s.URL+"/repos/o/r/pulls/1/reviews", DefaultToken, tc.body)
		assert.Equal(t, code, tc.code, tc.body)
		assert.Check(t, is.Contains(body, tc.want))
	}
	rs := s.Reviews("o/r", 1)
	assert.Equal(t, len(rs), 1)
	assert.Equal(t, rs[0].CommitID, "abc", "defaults to the head")
}

func TestFaultsAreSpent(t *testing.T) {
	s := New(t)
	s.Fail(ServerError("GET", "/user", 2), Fault{Method: "GET", Path: "/user", Status: 502, Body: "<html>bad gateway</html>"})
	var codes []int
	for range 4 {
		code, _, _ := do(t, "GET", s.URL+"/user", DefaultToken, "")
		codes = append(codes, code)
	}
	assert.DeepEqual(t, codes, []int{500, 500, 502, 200})
	var recorded []int
	for _, r := range s.Requests() {
		recorded = append(recorded, r.Status)
	}
	assert.DeepEqual(t, recorded, codes)

	s.Fail(ReviewUnprocessable("needle"))
	s.AddPull(&Pull{Repo: "o/r", Number: 1, Head: Branch{SHA: "abc", Repo: "o/r"}, Base: Branch{Repo: "o/r"}})
	code, _, _ := do(t, "POST", s.URL+"/repos/o/r/pulls/1/reviews", DefaultToken, `{"event":"COMMENT","body":"hay"}`)
	assert.Equal(t, code, 200, "body does not match: no fault")
	code, _, body := do(t, "POST", s.URL+"/repos/o/r/pulls/1/reviews", DefaultToken, `{"event":"COMMENT","body":"needle"}`)
	assert.Equal(t, code, 422)
	assert.Check(t, is.Contains(body, `"errors":["Line could not be resolved"]`))
}

func TestControlEndpoints(t *testing.T) {
	s := New(t)
	state := `{"users":[{"login":"alice","type":"User","token":"t-alice"}],
	  "permissions":{"o/r":{"alice":"admin"}},
	  "comments":[{"id":5000,"repo":"o/r","issue":1,"body":"old","user":"alice"}]}`
	code, _, _ := do(t, "POST", s.URL+"/_fake/state", "", state)
	assert.Equal(t, code, http.StatusNoContent)
	code, _, _ = do(t, "POST", s.URL+"/_fake/faults", "", `{"method":"POST","path":"/repos/*/*/issues/*/comments","status":503}`)
	assert.Equal(t, code, http.StatusNoContent)

	code, _, _ = do(t, "POST", s.URL+"/repos/o/r/issues/1/comments", "t-alice", `{"body":"first"}`)
	assert.Equal(t, code, 503)
	code, _, body := do(t, "POST", s.URL+"/repos/o/r/issues/1/comments", "t-alice", `{"body":"second"}`)
	assert.Equal(t, code, 201)
	assert.Check(t, is.Contains(body, `"id": 5001`), "ids continue after the seeded ones")

	code, _, body = do(t, "GET", s.URL+"/_fake/requests", "", "")
	assert.Equal(t, code, 200)
	var reqs []Request
	assert.NilError(t, json.Unmarshal([]byte(body), &reqs))
	assert.Equal(t, len(reqs), 2, "control requests are not recorded")
	assert.Equal(t, reqs[1].Body, `{"body":"second"}`)

	_, _, body = do(t, "GET", s.URL+"/_fake/state", "", "")
	var st State
	assert.NilError(t, json.Unmarshal([]byte(body), &st))
	assert.Equal(t, len(st.Comments), 2)
	assert.Equal(t, st.Permissions["o/r"]["alice"], "admin")
	assert.Check(t, len(st.Users) == 2, "the default bot is kept")

	code, _, body = do(t, "POST", s.URL+"/_fake/state", "", `{"users":`)
	assert.Equal(t, code, http.StatusBadRequest)
	assert.Check(t, is.Contains(body, "state:"))
	code, _, _ = do(t, "POST", s.URL+"/_fake/faults", "", `[{"status":500},{"status":502}]`)
	assert.Equal(t, code, http.StatusNoContent)
	code, _, _ = do(t, "POST", s.URL+"/_fake/reset", "", "")
	assert.Equal(t, code, http.StatusNoContent)
	assert.Equal(t, len(s.Requests()), 0)
	code, _, _ = do(t, "GET", s.URL+"/user", DefaultToken, "")
	assert.Equal(t, code, 200, "reset dropped the faults")
	code, _, _ = do(t, "GET", s.URL+"/_fake/nothing", "", "")
	assert.Equal(t, code, 404)
}

func TestRecordsBodies(t *testing.T) {
	s := New(t)
	do(t, "POST", s.URL+"/repos/o/r/issues/9/comments", DefaultToken, `{"body":"hello"}`)
	w := s.Writes()
	assert.Equal(t, len(w), 1)
	assert.Equal(t, w[0].Method, "POST")
	assert.Equal(t, w[0].Path, "/repos/o/r/issues/9/comments")
	assert.Check(t, bytes.Contains([]byte(w[0].Body), []byte("hello")))
	assert.Equal(t, w[0].Status, 201)
}

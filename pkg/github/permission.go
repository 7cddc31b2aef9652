package github

import (
	"fmt"
	"strings"
)

// Permission is a level of access to a repository, ordered: a higher level
// includes every lower one.
type Permission int

const (
	PermissionNone Permission = iota
	PermissionRead
	PermissionTriage
	PermissionWrite
	PermissionMaintain
	PermissionAdmin
)

var permissionNames = []string{"none", "read", "triage", "write", "maintain", "admin"}

// String returns GitHub's name for p.
func (p Permission) String() string {
	if p < 0 || int(p) >= len(permissionNames) {
		return fmt.Sprintf("Permission(%d)", int(p))
	}
	return permissionNames[p]
}

// AtLeast reports whether p includes required.
func (p Permission) AtLeast(required Permission) bool { return p >= required }

// ParsePermission parses a required-permission setting: read, triage,
// write, maintain or admin.
func ParsePermission(s string) (Permission, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range permissionNames {
		if n == s && i > 0 {
			return Permission(i), nil
		}
	}
	return PermissionNone, fmt.Errorf("permission %q: want one of read, triage, write, maintain, admin", s)
}

// permissionOf reads the collaborator permission API's answer. role_name is
// the fine-grained role (triage and maintain exist only there); permission is
// the legacy field (admin, write, read, none), used when role_name is absent
// or a custom role's name.
func permissionOf(roleName, legacy string) Permission {
	for i, n := range permissionNames {
		if strings.EqualFold(roleName, n) {
			return Permission(i)
		}
	}
	for i, n := range permissionNames {
		if strings.EqualFold(legacy, n) {
			return Permission(i)
		}
	}
	return PermissionNone
}

// Refusal says why a comment may not trigger a run; the zero value lets it.
type Refusal struct {
	// Reason is for the log.
	Reason string
	// Reply, when not empty, is worth answering in the pull request (people
	// are told; bots and the action's own comments are not).
	Reply string
}

// Refused reports whether a run is refused.
func (r Refusal) Refused() bool { return r.Reason != "" }

// screen is the part of who-may-trigger that needs no API: bots and the
// action's own comments never trigger, so the action cannot loop on itself
// or be driven by another bot.
func screen(c *Comment) Refusal {
	switch {
	case c == nil:
		return Refusal{Reason: "the event has no comment"}
	case IsOwnComment(c.Body):
		return Refusal{Reason: fmt.Sprintf("comment %d was posted by this action", c.ID)}
	case c.Author.IsBot():
		return Refusal{Reason: fmt.Sprintf("comment %d is by the bot %s; bots never trigger runs", c.ID, c.Author.Login)}
	}
	return Refusal{}
}

// refusedText is the reply to someone whose permission is too low.
func refusedText(login string, have, need Permission) string {
	return fmt.Sprintf("@%s, sorry: running commands needs %s permission on this repository, and you have %s. "+
		"Ask a maintainer to run it for you.\n", login, need, have)
}

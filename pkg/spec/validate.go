package spec

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/distribution/reference"
)

// FieldError is one problem with one field of a RunSpec.
type FieldError struct {
	// Field names the field, e.g. "image", "env[2].name", "limits.memory".
	Field string
	// Value is the offending value, quoted in the message; empty when there
	// is none or it must not be shown (environment values may be secrets).
	Value string
	// Reason says what is wrong and, where it helps, what would be right.
	Reason string
}

// Error reads `spec: FIELD "VALUE": REASON`.
func (e *FieldError) Error() string {
	if e.Value == "" {
		return "spec: " + e.Field + ": " + e.Reason
	}
	return fmt.Sprintf("spec: %s %q: %s", e.Field, e.Value, e.Reason)
}

var (
	// namePattern is docker's rule for container and network names.
	namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)
	// idPattern is namePattern allowing a single character.
	idPattern      = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	userPattern    = regexp.MustCompile(`^([0-9]+)(?::([0-9]+))?$`)
	runtimePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$`)
)

// MinMemory is the smallest memory limit Docker accepts (6 MiB since Engine
// 23; older engines accept 4 MiB). Refusing less early turns a late daemon
// error into one that names the option.
const MinMemory = 6 << 20

// builtinNetworks are docker's own networks; a private sandbox must be on
// the run's internal network, never on one of these.
var builtinNetworks = []string{"bridge", "host", "none", "default"}

// Validate reports every problem with s, each as a *FieldError joined with
// errors.Join, or nil. It is pure: whether Workspace exists is checked by
// ValidateHost. An empty Network.Mode means Public.
//
// Env values may not contain newlines: the engine would accept them, but Args
// must stay a command a person can paste, and `-e NAME=VALUE` cannot carry a
// newline through a terminal safely.
func (s RunSpec) Validate() error {
	var v validator
	v.spec(s)
	return errors.Join(v.errs...)
}

// validator collects the problems of one spec.
type validator struct {
	errs []error
}

func (v *validator) spec(s RunSpec) {
	v.image(s.Image)
	for i, arg := range s.Command {
		if strings.ContainsRune(arg, 0) {
			v.add(fmt.Sprintf("command[%d]", i), "", "contains a NUL byte")
		}
	}
	v.identifier("run-id", s.RunID, idPattern)
	v.identifier("name", s.Name, namePattern)
	v.workspace(s.Workspace)
	v.mounts(s.Mounts, s.role())
	v.masks(s.Masks, s.role())
	v.env(s.Env, s.reservedEnv())
	v.user(s.User, s.Relax.Root)
	v.network(s.Network)
	v.role(s.role(), s.Network.mode())
	v.limits(s.Limits)
	if s.Runtime != "" && !runtimePattern.MatchString(s.Runtime) {
		v.add("runtime", s.Runtime, "must be a runtime name such as runsc (letters, digits, '_', '.', '+', '-')")
	}
	if s.Timeout < 0 {
		v.add("timeout", s.Timeout.String(), "must not be negative")
	}
	v.labelValue("sandbox-type", s.SandboxType)
	v.labelValue("bundle", s.Bundle)
	v.labelValue("created-by", s.CreatedBy)
	v.labelValue("origin", s.Origin)
	v.labels(s.Labels)
}

func (v *validator) add(field, value, reason string) {
	v.errs = append(v.errs, &FieldError{Field: field, Value: value, Reason: reason})
}

func (v *validator) image(image string) {
	switch {
	case image == "":
		v.add("image", "", "required")
	case strings.HasPrefix(image, "-"):
		v.add("image", image, `must not start with "-"`)
	case strings.IndexFunc(image, isSpaceOrControl) >= 0:
		v.add("image", image, "must not contain whitespace or control characters")
	default:
		// ParseAnyReference accepts what docker run accepts: a name with an
		// optional tag and digest, or an image ID.
		if _, err := reference.ParseAnyReference(image); err != nil {
			v.add("image", image, "not a valid image reference: "+err.Error())
		}
	}
}

func (v *validator) identifier(field, value string, pattern *regexp.Regexp) {
	switch {
	case value == "":
		v.add(field, "", "required")
	case !pattern.MatchString(value):
		v.add(field, value, "must match "+pattern.String())
	}
}

func (v *validator) workspace(ws string) {
	switch {
	case ws == "":
		v.add("workspace", "", "required")
	case strings.IndexFunc(ws, unicode.IsControl) >= 0:
		v.add("workspace", ws, "must not contain control characters")
	case !filepath.IsAbs(ws):
		v.add("workspace", ws, "must be an absolute path")
	case filepath.Clean(ws) == "/":
		v.add("workspace", ws, "refusing to mount the host's root directory")
	}
}

func (v *validator) env(env []EnvVar, reserved map[string]bool) {
	seen := map[string]int{}
	for i, e := range env {
		field := fmt.Sprintf("env[%d].name", i)
		switch {
		case e.Name == "":
			v.add(field, "", "required")
			continue
		case strings.ContainsAny(e.Name, "=\x00\n"):
			v.add(field, e.Name, `must not contain "=", NUL or newline`)
			continue
		case !envNamePattern.MatchString(e.Name):
			v.add(field, e.Name, "must match "+envNamePattern.String())
			continue
		case reserved[e.Name]:
			v.add(field, e.Name, "is set by the sandbox itself")
		case ForbiddenEnv(e.Name):
			v.add(field, e.Name, "is a GitHub credential, which never enters the sandbox (GitHub writes are made outside it)")
		case seen[e.Name] > 0:
			v.add(field, e.Name, fmt.Sprintf("duplicate of env[%d]", seen[e.Name]-1))
		}
		seen[e.Name] = i + 1
		// The value is never shown: it may be a secret.
		switch {
		case strings.ContainsRune(e.Value, 0):
			v.add("env."+e.Name, "", "value contains a NUL byte")
		case strings.ContainsAny(e.Value, "\n\r"):
			v.add("env."+e.Name, "", "value contains a line break, which a pasted docker run command cannot carry; "+
				"pass multi-line data in a workspace file instead")
		}
	}
}

func (v *validator) user(user string, rootAllowed bool) {
	if user == "" {
		if !rootAllowed {
			v.add("user", "", `required ("UID:GID", normally the workspace owner); it may be empty only with Relax.Root`)
		}
		return
	}
	if err := CheckUser(user); err != nil {
		v.add("user", user, err.Error())
		return
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, _ := strconv.ParseUint(uid, 10, 32); n == 0 && !rootAllowed {
		v.add("user", user, "runs as root; that needs Relax.Root")
	}
}

// role checks that the container's role and network mode fit together: the
// proxy alone may leave the internal network, and only the sandbox mounts
// the workspace.
func (v *validator) role(role string, mode NetworkMode) {
	switch role {
	case RoleSandbox:
		if mode == Egress {
			v.add("network.mode", string(mode), "is the egress proxy's mode, not a sandbox's")
		}
	case RoleProxy:
		if mode != Egress {
			v.add("role", role, fmt.Sprintf("the proxy needs network mode %q", Egress))
		}
	default:
		v.add("role", role, fmt.Sprintf("unknown; use %q or %q", RoleSandbox, RoleProxy))
	}
}

func (v *validator) internalNetwork(name string) {
	switch {
	case name == "":
		v.add("network.name", "", "required in private mode (the run's internal network)")
	case !namePattern.MatchString(name):
		v.add("network.name", name, "must match "+namePattern.String())
	case slices.Contains(builtinNetworks, name):
		v.add("network.name", name, "is a docker network; private mode needs the run's own internal network")
	}
}

func (v *validator) network(n Network) {
	if n.mode() != Egress && len(n.Outside) > 0 {
		v.add("network.outside", strings.Join(n.Outside, ","), "only the egress proxy joins outside networks")
	}
	switch n.mode() {
	case Public:
		for _, f := range [][2]string{
			{"network.name", n.Name},
			{"network.proxy-url", n.ProxyURL},
			{"network.no-proxy", strings.Join(n.NoProxy, ",")},
		} {
			if f[1] != "" {
				v.add(f[0], f[1], "only used in private mode")
			}
		}
	case Egress:
		v.internalNetwork(n.Name)
		if len(n.Outside) == 0 {
			v.add("network.outside", "", `required for the egress proxy (e.g. "bridge")`)
		}
		for i, o := range n.Outside {
			if !namePattern.MatchString(o) || o == n.Name || o == "host" || o == "none" {
				v.add(fmt.Sprintf("network.outside[%d]", i), o, "must be another network's name (not host or none)")
			}
		}
		if n.ProxyURL != "" || len(n.NoProxy) > 0 {
			v.add("network.proxy-url", n.ProxyURL, "the egress proxy does not use a proxy")
		}
	case Private:
		v.internalNetwork(n.Name)
		v.proxyURL(n.ProxyURL)
		for i, h := range n.NoProxy {
			if h == "" || strings.IndexFunc(h, isSpaceOrControl) >= 0 || strings.Contains(h, ",") {
				v.add(fmt.Sprintf("network.no-proxy[%d]", i), h, "must be a host name or address without spaces or commas")
			}
		}
	default:
		v.add("network.mode", string(n.Mode), fmt.Sprintf("unknown; use %q or %q", Public, Private))
	}
}

func (v *validator) proxyURL(raw string) {
	const field = "network.proxy-url"
	if raw == "" {
		v.add(field, "", `required in private mode (the egress proxy, e.g. "http://proxy:3128")`)
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		v.add(field, raw, "not a URL: "+err.Error())
	case u.Scheme != "http" && u.Scheme != "https":
		v.add(field, raw, `scheme must be "http" or "https"`)
	case u.Host == "":
		v.add(field, raw, "needs a host")
	case u.User != nil:
		v.add(field, raw, "must not carry credentials: it is printed in the docker run command")
	case strings.IndexFunc(raw, isSpaceOrControl) >= 0:
		v.add(field, raw, "must not contain whitespace or control characters")
	}
}

func (v *validator) limits(l Limits) {
	for _, f := range []struct {
		field string
		n     int64
	}{{"limits.memory", l.MemoryBytes}, {"limits.cpus", l.NanoCPUs}, {"limits.pids", l.PidsLimit}} {
		if f.n < 0 {
			v.add(f.field, strconv.FormatInt(f.n, 10), "must not be negative (0 means the daemon's default)")
		}
	}
	if l.MemoryBytes > 0 && l.MemoryBytes < MinMemory {
		v.add("limits.memory", strconv.FormatInt(l.MemoryBytes, 10), "below docker's minimum of 6 MiB")
	}
}

// labelValue checks a value that becomes a label: it must print on one line.
func (v *validator) labelValue(field, value string) {
	if strings.IndexFunc(value, unicode.IsControl) >= 0 {
		v.add(field, value, "must not contain control characters")
	}
}

func (v *validator) labels(labels map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		switch {
		case k == "" || strings.ContainsRune(k, '=') || strings.IndexFunc(k, isSpaceOrControl) >= 0:
			v.add("labels", k, `key must be non-empty, without "=", whitespace or control characters`)
		case strings.HasPrefix(k, LabelPrefix) && k != LabelTest:
			v.add("labels", k, fmt.Sprintf("keys starting with %q are reserved for the labels the sandbox sets", LabelPrefix))
		}
		v.labelValue(fmt.Sprintf("labels[%q]", k), labels[k])
	}
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// CheckUser checks a user as the sandbox takes it: numeric "UID" or
// "UID:GID". Names are refused because they depend on the image's
// /etc/passwd, which a scratch or distroless image does not have.
func CheckUser(user string) error {
	m := userPattern.FindStringSubmatch(user)
	if m == nil {
		return errors.New(`must be numeric "UID" or "UID:GID"`)
	}
	for _, id := range m[1:] {
		if _, err := strconv.ParseUint(id, 10, 32); id != "" && err != nil {
			return fmt.Errorf("%s is out of range for a UID or GID", id)
		}
	}
	return nil
}

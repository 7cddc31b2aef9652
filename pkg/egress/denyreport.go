package egress

import (
	"cmp"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// DenyReport is what the end of a run says about the destinations the proxy
// refused: which, how often, and the configuration line that would allow
// them. It only ever suggests; nothing is allowed on its behalf.
type DenyReport struct {
	// Hosts are the destinations the allowlist refused, most refused first.
	Hosts []Denial
	// Local are the destinations refused by address (loopback, link-local,
	// this host and its networks): listed, never suggested.
	Local []Denial
	// Other counts refused proxy requests that named no usable destination
	// (malformed) or that did not fit the bounded table.
	Other int64
	// Gateway counts requests the credential gateway refused.
	Gateway int64
	// Allow is the allowlist that would let Hosts through as well: the
	// run's entries, then the new ones, a bundle standing for its hosts.
	Allow []string
}

// DenyReport builds the report from s.
func (s Stats) DenyReport() DenyReport {
	r := DenyReport{Gateway: s.Gateway.Denied, Other: s.Proxy.Denied}
	for _, d := range s.Denials {
		r.Other -= d.Count
		switch {
		case d.Entry == keyOther:
			r.Other += d.Count
		case d.Address != "":
			r.Local = append(r.Local, d)
		default:
			r.Hosts = append(r.Hosts, d)
		}
	}
	byCount := func(a, b Denial) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Target, b.Target), strings.Compare(a.Address, b.Address))
	}
	slices.SortFunc(r.Hosts, byCount)
	slices.SortFunc(r.Local, byCount)
	if len(r.Hosts) > 0 {
		r.Allow = slices.Clone(s.Allow)
		for _, d := range r.Hosts {
			e := d.Entry
			if b := bundleFor(d.Target); b != "" {
				e = b
			}
			if !slices.Contains(r.Allow, e) {
				r.Allow = append(r.Allow, e)
			}
		}
	}
	return r
}

// bundleFor names the bundle that allows target (host:port), if any.
func bundleFor(target string) string {
	t, err := parseHostPort(target)
	if err != nil {
		return ""
	}
	for _, b := range allowBundles {
		al, err := ParseAllowlist(b.Entries, nil)
		if err != nil {
			continue
		}
		if ok, _ := al.allows(t); ok {
			return BundlePrefix + b.Name
		}
	}
	return ""
}

// Empty reports whether nothing was refused.
func (r DenyReport) Empty() bool {
	return len(r.Hosts) == 0 && len(r.Local) == 0 && r.Other == 0 && r.Gateway == 0
}

// ConfigLine is the configuration line that would allow the refused hosts,
// as it goes under network: in .github/sandbox.yml; empty when the
// allowlist refused none.
func (r DenyReport) ConfigLine() string {
	if len(r.Hosts) == 0 {
		return ""
	}
	quoted := make([]string, len(r.Allow))
	for i, e := range r.Allow {
		quoted[i] = yamlScalar(e)
	}
	return "allow: [" + strings.Join(quoted, ", ") + "]"
}

// plainScalar is what YAML reads as the same string unquoted, in a flow
// sequence: a host name. '*', '@', ':' and '[' would change the meaning or
// not parse.
var plainScalar = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

func yamlScalar(s string) string {
	if plainScalar.MatchString(s) && !isYAMLKeyword(s) {
		return s
	}
	return strconv.Quote(s)
}

// isYAMLKeyword reports names YAML would read as something other than a
// string (a host named "null" or "true" is possible on a private network).
func isYAMLKeyword(s string) bool {
	switch s {
	case "null", "true", "false", "yes", "no", "on", "off", "y", "n":
		return true
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// String renders the report for a terminal, one fact a line; empty when
// nothing was refused.
func (r DenyReport) String() string {
	if r.Empty() {
		return ""
	}
	var b strings.Builder
	if len(r.Hosts) > 0 {
		fmt.Fprintf(&b, "egress: the proxy refused %s to %s not in the allowlist:\n", requests(sum(r.Hosts)), plural(len(r.Hosts), "destination"))
		for _, d := range r.Hosts {
			fmt.Fprintf(&b, "  %s ×%d%s\n", d.Target, d.Count, via(d.Target))
		}
		fmt.Fprintf(&b, "egress: nothing was allowed for them; to allow them, set under network: in .github/sandbox.yml:\n  %s\n", r.ConfigLine())
	}
	if len(r.Local) > 0 {
		fmt.Fprintf(&b, "egress: the proxy refused %s to local addresses (allow such an address explicitly only if you mean it):\n", requests(sum(r.Local)))
		for _, d := range r.Local {
			fmt.Fprintf(&b, "  %s ×%d\n", local(d), d.Count)
		}
	}
	if r.Other > 0 {
		fmt.Fprintf(&b, "egress: the proxy refused %s that named no usable destination (see its log)\n", requests(r.Other))
	}
	if r.Gateway > 0 {
		fmt.Fprintf(&b, "egress: the credential gateway refused %s (see the proxy log)\n", requests(r.Gateway))
	}
	return b.String()
}

// Markdown renders the report for a GitHub step summary; empty when nothing
// was refused.
func (r DenyReport) Markdown() string {
	if r.Empty() {
		return ""
	}
	return "#### Egress refused\n\n" + r.Body()
}

// Body is Markdown without its heading, for a place that gives it one of
// its own (the status comment folds it under a summary line); "" when
// nothing was refused.
func (r DenyReport) Body() string {
	if r.Empty() {
		return ""
	}
	var b strings.Builder
	if len(r.Hosts)+len(r.Local) > 0 {
		b.WriteString("| Destination | Requests | Why |\n|---|---:|---|\n")
		for _, d := range r.Hosts {
			fmt.Fprintf(&b, "| `%s` | %d | not in the allowlist%s |\n", d.Target, d.Count, via(d.Target))
		}
		for _, d := range r.Local {
			fmt.Fprintf(&b, "| `%s` | %d | a local address |\n", local(d), d.Count)
		}
		b.WriteString("\n")
	}
	if len(r.Hosts) > 0 {
		fmt.Fprintf(&b, "Nothing was allowed for them. To allow them, set under `network:` in `.github/sandbox.yml`:\n\n```yaml\n%s\n```\n\n", r.ConfigLine())
	}
	if r.Other > 0 {
		fmt.Fprintf(&b, "The proxy also refused %s that named no usable destination.\n\n", requests(r.Other))
	}
	if r.Gateway > 0 {
		fmt.Fprintf(&b, "The credential gateway refused %s.\n\n", requests(r.Gateway))
	}
	return b.String()
}

func via(entry string) string {
	if b := bundleFor(entry); b != "" {
		return " (in " + b + ")"
	}
	return ""
}

// local names a destination refused by address: "name:port → address", or
// the target alone when it was asked for by address.
func local(d Denial) string {
	host, _, err := net.SplitHostPort(d.Target)
	if err != nil || host == d.Address || d.Address == "(unknown)" {
		return d.Target
	}
	return d.Target + " → " + d.Address
}

func sum(ds []Denial) int64 {
	var n int64
	for _, d := range ds {
		n += d.Count
	}
	return n
}

func requests(n int64) string { return plural(int(n), "request") }

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// DefaultPorts are the ports an allowlist entry without a port allows.
var DefaultPorts = []int{443, 80}

// Allowlist decides by name which destinations the proxy may reach.
//
// An entry is one of:
//
//	api.example.com          that host, on the default ports
//	*.example.com            any name under example.com (a.example.com,
//	                         a.b.example.com) but NOT example.com itself,
//	                         on the default ports; list both to allow both
//	api.example.com:8443     that host on port 8443 only
//	*.example.com:8443       names under example.com on port 8443 only
//	10.0.0.7, [fd00::7]:443  an IP literal; requests by address are refused
//	                         unless the address is listed like this
//	@go                      a bundle: the entries of AllowBundle "go"
//
// Names are compared after normalisation (lower case, no trailing dot), and an
// IP literal in any spelling (bracketed, IPv4-mapped, or an integer form such
// as 2130706433 or 0x7f.1) only ever matches an IP entry. The allowlist
// applies to the name the client asked for; what that name resolves to is
// checked separately (see Destinations), and an IP entry is also what lets
// the proxy connect to an address that check would refuse.
type Allowlist struct {
	rules []rule
	ports []int
	// entries are the entries as given, normalised, bundles by name.
	entries []string
}

type rule struct {
	// host is the exact host, or for a wildcard the suffix with its leading
	// dot (".example.com").
	host     string
	wildcard bool
	ip       bool
	// port is the only port allowed; 0 means the default ports.
	port int
}

// ParseAllowlist parses allowlist entries (see Allowlist). defaultPorts are the
// ports allowed for entries without a port; nil means DefaultPorts. An empty
// list of entries is valid and denies everything.
func ParseAllowlist(entries []string, defaultPorts []int) (*Allowlist, error) {
	if defaultPorts == nil {
		defaultPorts = DefaultPorts
	}
	for _, p := range defaultPorts {
		if p < 1 || p > 65535 {
			return nil, fmt.Errorf("default port %d: out of range 1-65535", p)
		}
	}
	a := &Allowlist{ports: slices.Clone(defaultPorts)}
	for _, e := range entries {
		rules, written, err := parseEntry(strings.TrimSpace(e))
		if err != nil {
			return nil, fmt.Errorf("allowlist entry %q: %w", e, err)
		}
		a.rules = append(a.rules, rules...)
		if !slices.Contains(a.entries, written) {
			a.entries = append(a.entries, written)
		}
	}
	return a, nil
}

// ValidateAllowEntry checks one allowlist entry, a bundle name included, the
// way ParseAllowlist does, for callers that validate configuration before any
// proxy runs.
func ValidateAllowEntry(e string) error {
	_, _, err := parseEntry(strings.TrimSpace(e))
	return err
}

// parseEntry parses an entry into its rules (several for a bundle) and its
// normalised written form.
func parseEntry(e string) ([]rule, string, error) {
	if strings.HasPrefix(e, BundlePrefix) {
		b, err := LookupBundle(e)
		if err != nil {
			return nil, "", err
		}
		rules := make([]rule, len(b.Entries))
		for i, be := range b.Entries {
			if rules[i], err = parseRule(be); err != nil {
				return nil, "", fmt.Errorf("bundle %s%s: entry %q: %w", BundlePrefix, b.Name, be, err)
			}
		}
		return rules, BundlePrefix + b.Name, nil
	}
	r, err := parseRule(e)
	if err != nil {
		return nil, "", err
	}
	return []rule{r}, r.String(), nil
}

func parseRule(e string) (rule, error) {
	if e == "" {
		return rule{}, errors.New("empty")
	}
	if e == "*" || strings.HasPrefix(e, "*:") {
		return rule{}, errors.New("a bare * would allow every host; list hosts or *.suffix patterns")
	}
	rest, wildcard := strings.CutPrefix(e, "*.")
	if strings.Contains(rest, "*") {
		return rule{}, errors.New("* is only allowed as the first label, as in *.example.com")
	}
	host, port, err := splitEntry(rest)
	if err != nil {
		return rule{}, err
	}
	r := rule{wildcard: wildcard}
	if port != "" {
		if r.port, err = parsePort(port); err != nil {
			return rule{}, err
		}
	}
	if r.host, r.ip, err = normalizeHost(host); err != nil {
		return rule{}, err
	}
	if wildcard {
		if r.ip {
			return rule{}, errors.New("a wildcard cannot apply to an IP address")
		}
		r.host = "." + r.host
	}
	return r, nil
}

// splitEntry splits an entry into host and optional port. Unlike a CONNECT
// target the port may be missing, and a bare IPv6 address has no port.
func splitEntry(e string) (host, port string, err error) {
	switch {
	case strings.HasPrefix(e, "["):
		end := strings.IndexByte(e, ']')
		if end < 0 {
			return "", "", errors.New("missing ']' after IPv6 address")
		}
		host, rest := e[:end+1], e[end+1:]
		if rest == "" {
			return host, "", nil
		}
		port, ok := strings.CutPrefix(rest, ":")
		if !ok {
			return "", "", fmt.Errorf("unexpected %q after IPv6 address", rest)
		}
		return host, port, nil
	case strings.Count(e, ":") > 1:
		return e, "", nil
	}
	host, port, _ = strings.Cut(e, ":")
	if strings.Contains(e, ":") && port == "" {
		return "", "", errors.New("missing port after ':'")
	}
	return host, port, nil
}

// Check reports whether host:port may be reached, and why not. host may be
// written in any form a client might send (upper case, trailing dot,
// bracketed IPv6); an invalid host is denied with the parse error as reason.
func (a *Allowlist) Check(host string, port int) (ok bool, reason string) {
	t, err := newTarget(host, strconv.Itoa(port))
	if err != nil {
		return false, err.Error()
	}
	return a.allows(t)
}

func (a *Allowlist) allows(t target) (bool, string) {
	hostMatched := false
	for _, r := range a.rules {
		if !r.matchesHost(t) {
			continue
		}
		hostMatched = true
		if r.port == t.Port || r.port == 0 && slices.Contains(a.ports, t.Port) {
			return true, ""
		}
	}
	switch {
	case hostMatched:
		return false, fmt.Sprintf("port %d is not allowed for %s", t.Port, t.Host)
	case t.IP:
		return false, fmt.Sprintf("IP address %s is not in the allowlist", t.Host)
	}
	return false, fmt.Sprintf("host %s is not in the allowlist", t.Host)
}

// allowsAddr reports whether an IP entry allows ap: the explicit allow that
// lets the proxy dial an address the destination check would refuse.
func (a *Allowlist) allowsAddr(ap netip.AddrPort) bool {
	ok, _ := a.allows(target{Host: ap.Addr().Unmap().WithZone("").String(), Port: int(ap.Port()), IP: true})
	return ok
}

func (r rule) matchesHost(t target) bool {
	switch {
	case r.ip != t.IP:
		return false
	case r.wildcard:
		return strings.HasSuffix(t.Host, r.host)
	}
	return r.host == t.Host
}

// String lists what is allowed, bundles expanded, in normalised form, for
// the startup log.
func (a *Allowlist) String() string {
	s := make([]string, len(a.rules))
	for i, r := range a.rules {
		s[i] = r.String()
	}
	return strings.Join(s, ",")
}

// Entries returns the entries as given, normalised, with bundles by name and
// duplicates dropped: what a configuration line would list.
func (a *Allowlist) Entries() []string { return slices.Clone(a.entries) }

// String writes r as an entry.
func (r rule) String() string {
	h := r.host
	if r.wildcard {
		h = "*" + h
	}
	if r.port == 0 {
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
		return h
	}
	return target{Host: h, Port: r.port}.addr()
}

// Ports returns the default ports.
func (a *Allowlist) Ports() []int { return slices.Clone(a.ports) }

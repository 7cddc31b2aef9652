package egress

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// Destinations decides which addresses the proxy and the gateway may connect
// to once a name has been resolved. The allowlist decides by name; this
// decides by address, so that an allowlisted name (or one a DNS server
// controlled by someone else points anywhere) cannot lead the proxy to
// services on its own host: loopback, cloud metadata, the host's interfaces,
// Docker's bridges and the containers on them.
//
// The check runs in the dialer's Control hook, on the address actually
// dialled, so there is no window between resolving and connecting in which a
// second DNS answer could change the address (DNS rebinding).
type Destinations struct {
	blocked []blockedNet
	// any lets every address through; see AnyDestination.
	any bool
}

type blockedNet struct {
	prefix netip.Prefix
	what   string
}

// Addresses outside the special ranges that still lead to the platform the
// host runs on rather than to the Internet.
var platformAddrs = []blockedNet{
	{netip.MustParsePrefix("168.63.129.16/32"), "Azure's platform address (WireServer)"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "AWS's IPv6 instance metadata address"},
	{netip.MustParsePrefix("100.100.100.200/32"), "Alibaba Cloud's instance metadata address"},
}

// Interface networks broader than these are blocked by address only: a
// catch-all route on a VPN interface must not block the Internet.
const (
	minBlockedBits4 = 8
	minBlockedBits6 = 32
)

// HostDestinations returns the policy for the host the proxy runs on: it
// refuses loopback, unspecified, link-local (169.254.169.254 included),
// multicast and broadcast addresses, the cloud platform addresses above,
// every address of every local interface and every network those interfaces
// are on (docker0's 172.17.0.0/16, a user bridge's, or in a container the
// bridge it sits on). Interfaces are enumerated once, now.
func HostDestinations() (*Destinations, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	d := &Destinations{blocked: append([]blockedNet(nil), platformAddrs...)}
	var nets []blockedNet
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			return nil, fmt.Errorf("addresses of interface %s: %w", ifc.Name, err)
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			ones, _ := ipn.Mask.Size()
			d.blocked = append(d.blocked, blockedNet{netip.PrefixFrom(ip, ip.BitLen()), "an address of this host (" + ifc.Name + ")"})
			min := minBlockedBits4
			if ip.Is6() {
				min = minBlockedBits6
			}
			if ones >= min && ones < ip.BitLen() {
				p := netip.PrefixFrom(ip, ones).Masked()
				nets = append(nets, blockedNet{p, "on " + p.String() + ", the network of this host's interface " + ifc.Name})
			}
		}
	}
	// Addresses first, so that the host's own address is named as such.
	d.blocked = append(d.blocked, nets...)
	return d, nil
}

// AnyDestination returns a policy that lets every address through.
//
// It exists for tests only: their fake upstreams live on loopback or on a
// Docker network of the test's own, which HostDestinations rightly refuses.
// `sandbox proxy` reaches it only through a hidden flag that Command sets from
// its TestAnyDestination field, which neither `sandbox run`'s flags nor the
// config file can set.
func AnyDestination() *Destinations { return &Destinations{any: true} }

// hostDestinations is HostDestinations for a caller that gave none. If the
// interfaces cannot be listed, nothing is dialled at all: refusing every
// address is the only safe answer when the host's own are unknown.
func hostDestinations() *Destinations {
	d, err := HostDestinations()
	if err != nil {
		return &Destinations{blocked: []blockedNet{
			{netip.MustParsePrefix("0.0.0.0/0"), "not checkable (" + err.Error() + ")"},
			{netip.MustParsePrefix("::/0"), "not checkable (" + err.Error() + ")"},
		}}
	}
	return d
}

// DestinationError is why the proxy or the gateway did not connect to an
// address.
type DestinationError struct {
	Addr netip.AddrPort
	// What the address is, as in "a loopback address".
	What string
}

func (e *DestinationError) Error() string {
	return fmt.Sprintf("%s is %s", e.Addr.Addr(), e.What)
}

// Check returns a *DestinationError when ap must not be dialled, unless
// explicit reports that this very address was allowed explicitly.
func (d *Destinations) Check(ap netip.AddrPort, explicit func(netip.AddrPort) bool) error {
	if d.any {
		return nil
	}
	a := ap.Addr().Unmap().WithZone("")
	ap = netip.AddrPortFrom(a, ap.Port())
	if explicit != nil && explicit(ap) {
		return nil
	}
	if what := special(a); what != "" {
		return &DestinationError{Addr: ap, What: what}
	}
	for _, b := range d.blocked {
		if b.prefix.Contains(a) {
			return &DestinationError{Addr: ap, What: b.what}
		}
	}
	return nil
}

// special names the address ranges that never lead anywhere but this host,
// its link or a group: checked before any interface is consulted.
func special(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "not a valid address"
	case a.IsLoopback():
		return "a loopback address"
	case a.IsUnspecified(), a.Is4() && a.As4()[0] == 0:
		// Linux connects 0.0.0.0 to the host itself.
		return "an unspecified address"
	case a.IsLinkLocalUnicast():
		return "a link-local address (where cloud instance metadata lives)"
	case a.IsMulticast():
		return "a multicast address"
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "the broadcast address"
	}
	return ""
}

// dialer returns a DialFunc that resolves with resolver (the default when
// nil), and dials only addresses that d lets through.
func (d *Destinations) dialer(resolver *net.Resolver, explicit func(netip.AddrPort) bool) DialFunc {
	nd := &net.Dialer{
		KeepAlive: 30 * time.Second,
		Resolver:  resolver,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				// The dialer always hands over ip:port; anything else is
				// not something to connect to.
				return &DestinationError{What: fmt.Sprintf("not an address (%q)", address)}
			}
			return d.Check(ap, explicit)
		},
	}
	return nd.DialContext
}

// refusedDestination turns a dial error into the reason for a 403 when it
// was the destination check that failed; hint says how to allow the address
// on purpose.
func refusedDestination(host string, err error, hint func(netip.AddrPort) string) (reason, addr string, refused bool) {
	var de *DestinationError
	if !errors.As(err, &de) {
		return "", "", false
	}
	if !de.Addr.IsValid() {
		return fmt.Sprintf("%s: %s", host, de.What), "(unknown)", true
	}
	addr = de.Addr.Addr().String()
	if addr == host {
		return fmt.Sprintf("%s is %s; %s", host, de.What, hint(de.Addr)), addr, true
	}
	return fmt.Sprintf("%s resolves to %s, which is %s; %s", host, addr, de.What, hint(de.Addr)), addr, true
}

// hostPort writes ap as an allowlist entry or URL host would: 10.0.0.1:443,
// [fd00::1]:443.
func hostPort(ap netip.AddrPort) string {
	return net.JoinHostPort(ap.Addr().String(), strconv.Itoa(int(ap.Port())))
}

func proxyHint(ap netip.AddrPort) string {
	return "the proxy connects there only if that exact address is allowed (--allow " + hostPort(ap) + ")"
}

func gatewayHint(ap netip.AddrPort) string {
	return "the gateway connects there only if the upstream names that exact address (https://" + hostPort(ap) + ")"
}

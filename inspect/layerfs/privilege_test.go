package layerfs

import (
	"os"
	"strings"
	"testing"
)

func TestPrivilegeFrom(t *testing.T) {
	const host = "         0          0 4294967295\n"
	cases := []struct {
		name, status, uidMap string
		want                 bool
		why                  string
	}{
		{"root", "Name:\tdlayer\nCapEff:\t000001ffffffffff\n", host, true, ""},
		{"unprivileged", "CapEff:\t0000000000000000\n", host, false, "lacks CAP_SYS_ADMIN"},
		{"all but sys_admin", "CapEff:\t000001ffffdfffff\n", host, false, "lacks CAP_SYS_ADMIN"},
		{"user namespace", "CapEff:\t000001ffffffffff\n", "0 1000 1\n", false, "user namespace"},
		{"no CapEff", "Name:\tx\n", host, false, "no CapEff"},
	}
	for _, c := range cases {
		p := privilegeFrom(c.status, c.uidMap, 1001)
		if p.TrustedXattrs != c.want || !strings.Contains(p.Why, c.why) {
			t.Errorf("%s: got %+v, want TrustedXattrs=%v and a reason with %q", c.name, p, c.want, c.why)
		}
	}
}

// TestProcessPrivilegeAsRoot: root on the host sees trusted.* xattrs.
func TestProcessPrivilegeAsRoot(t *testing.T) {
	p := ProcessPrivilege()
	if os.Geteuid() == 0 && !p.TrustedXattrs {
		m, _ := os.ReadFile("/proc/self/uid_map")
		if initialUserNS(string(m)) {
			t.Fatalf("root in the initial user namespace: %+v", p)
		}
	}
	if !p.TrustedXattrs && p.Why == "" {
		t.Fatalf("no reason: %+v", p)
	}
}

func TestCapabilityNames(t *testing.T) {
	for _, tc := range []struct {
		mask uint64
		want string
	}{
		{0, ""},
		{1<<0 | 1<<21, "cap_chown cap_sys_admin"},
		{0x000001ffffffffff, "… cap_checkpoint_restore"},
		{1 << 50, "cap_50"},
	} {
		got := strings.Join(CapabilityNames(tc.mask), " ")
		if want, ok := strings.CutPrefix(tc.want, "… "); ok {
			if n := len(CapabilityNames(tc.mask)); n != 41 || !strings.HasSuffix(got, want) {
				t.Errorf("CapabilityNames(%#x) = %d names ending %q, want 41 ending %q", tc.mask, n, got[max(0, len(got)-30):], want)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("CapabilityNames(%#x) = %q, want %q", tc.mask, got, tc.want)
		}
	}
}

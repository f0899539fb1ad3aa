package layerfs

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// capSysAdmin is CAP_SYS_ADMIN's bit in the capability sets
// (linux/capability.h).
const capSysAdmin = 21

// Privilege says whether this process can see what a store keeps in
// trusted.* extended attributes (overlayfs's whiteout, opaque, redirect
// and metacopy markers).
//
// The kernel shows trusted.* xattrs only to a process with CAP_SYS_ADMIN
// in the initial user namespace; to any other it answers as if they were
// not set: listxattr leaves them out and getxattr fails with ENODATA,
// never EPERM (fs/xattr.c xattr_permission). Nothing in the file system
// tells a hidden marker from an absent one, so the answer comes from the
// process's own capabilities.
type Privilege struct {
	// TrustedXattrs is true when the kernel shows this process trusted.*
	// xattrs.
	TrustedXattrs bool
	// Why says, when TrustedXattrs is false, what the process lacks.
	Why string
}

// ProcessPrivilege reads this process's capabilities from /proc/self.
func ProcessPrivilege() Privilege {
	status, err1 := os.ReadFile("/proc/self/status")
	uidMap, err2 := os.ReadFile("/proc/self/uid_map")
	if err1 != nil || err2 != nil {
		if os.Geteuid() == 0 {
			return Privilege{TrustedXattrs: true}
		}
		return Privilege{Why: fmt.Sprintf("this process runs as uid %d and /proc/self is unreadable, so it is taken to lack CAP_SYS_ADMIN", os.Geteuid())}
	}
	return privilegeFrom(string(status), string(uidMap), os.Geteuid())
}

// privilegeFrom decides from the text of /proc/self/status and
// /proc/self/uid_map.
func privilegeFrom(status, uidMap string, euid int) Privilege {
	eff, ok := capEff(status)
	switch {
	case !ok:
		return Privilege{Why: fmt.Sprintf("this process (euid %d) shows no CapEff line in /proc/self/status, so it is taken to lack CAP_SYS_ADMIN", euid)}
	case eff&(1<<capSysAdmin) == 0:
		return Privilege{Why: fmt.Sprintf("this process (euid %d) lacks CAP_SYS_ADMIN, without which the kernel hides trusted.* xattrs (they read as absent, not as an error); run dlayer as root", euid)}
	case !initialUserNS(uidMap):
		return Privilege{Why: fmt.Sprintf("this process (euid %d) runs in a user namespace (uid_map %q): its CAP_SYS_ADMIN does not reach trusted.* xattrs, which read as absent; run dlayer as root on the host", euid, strings.TrimSpace(uidMap))}
	}
	return Privilege{TrustedXattrs: true}
}

// EffectiveCapabilities reads this process's effective capability set
// (CapEff in /proc/self/status); ok is false when it cannot be read.
func EffectiveCapabilities() (eff uint64, ok bool) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	return capEff(string(status))
}

// capabilityNames are the capabilities by bit, as linux/capability.h
// numbers them (CAP_CHOWN is bit 0), in lower case without "cap_".
const capabilityNames = "chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap " +
	"linux_immutable net_bind_service net_broadcast net_admin net_raw ipc_lock ipc_owner sys_module " +
	"sys_rawio sys_chroot sys_ptrace sys_pacct sys_admin sys_boot sys_nice sys_resource sys_time " +
	"sys_tty_config mknod lease audit_write audit_control setfcap mac_override mac_admin syslog " +
	"wake_alarm block_suspend audit_read perfmon bpf checkpoint_restore"

// CapabilityNames names the capabilities set in mask ("cap_sys_admin"),
// lowest bit first; a bit this table does not know is "cap_<bit>".
func CapabilityNames(mask uint64) []string {
	names := strings.Fields(capabilityNames)
	out := []string{}
	for bit := range 64 {
		if mask&(1<<bit) == 0 {
			continue
		}
		if bit < len(names) {
			out = append(out, "cap_"+names[bit])
		} else {
			out = append(out, "cap_"+strconv.Itoa(bit))
		}
	}
	return out
}

func capEff(status string) (uint64, bool) {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// initialUserNS is true for the initial user namespace's identity map.
func initialUserNS(uidMap string) bool {
	f := strings.Fields(uidMap)
	return len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295"
}

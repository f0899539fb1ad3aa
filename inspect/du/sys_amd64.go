//go:build linux && amd64

package du

import "golang.org/x/sys/unix"

// sysFstatat is fstatat(2) under its amd64 name.
const sysFstatat = unix.SYS_NEWFSTATAT

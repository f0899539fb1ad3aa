//go:build linux && arm64

package du

import "golang.org/x/sys/unix"

// sysFstatat is fstatat(2) under its arm64 name.
const sysFstatat = unix.SYS_FSTATAT

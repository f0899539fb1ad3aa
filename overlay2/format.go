package overlay2

import "github.com/dlayer/dlayer/overlayfs"

// Format reads overlay2 layer directories: image layers are extracted in
// the forms the kernel gives an upper dir (whiteouts as char devices 0/0,
// opaque dirs by xattr), so both are read as overlayfs upper dirs.
type Format = overlayfs.Format

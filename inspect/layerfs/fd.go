package layerfs

// Fd returns the directory's descriptor, for *at system calls this package
// does not wrap (e.g. reading many small files with raw openat/read in a
// hot loop). The descriptor stays owned by d: do not close it, and do not
// use it after d.Close.
func (d *Dir) Fd() int { return d.fd }

package mounts

// State is the state of the container a mount belongs to.
type State string

// The states of a mount, as `dlayer mounts` reports them.
const (
	StateRunning State = "running" // the container runs (or is paused or restarting)
	StateStopped State = "stopped" // exited, dead or being removed
	StateCreated State = "created" // created and never started
	StateRemoved State = "removed" // the layer's container, or the layer itself, is gone from the store
	StateUnknown State = "unknown" // the layer is in the store but belongs to no container
)

// String returns the state as written in JSON.
func (s State) String() string { return string(s) }

// States lists every state, in the order summaries count them.
func States() []State {
	return []State{StateRunning, StateStopped, StateCreated, StateRemoved, StateUnknown}
}

// Problem is the kind of a finding about mounts; any finding makes
// `dlayer mounts` exit 1.
type Problem string

// The kinds of mount findings.
const (
	// Leaked: a layer's merged mount whose container is not running.
	Leaked Problem = "leaked_mount"
	// Missing: a running container whose rw layer is not mounted.
	Missing Problem = "running_not_mounted"
	// LowerMismatch: the mounted lower layers are not the ones the
	// driver's record of the layer's parents names.
	LowerMismatch Problem = "mount_lower_mismatch"
	// UpperMismatch: a mount at a layer's merged point with another
	// upper dir than that layer's.
	UpperMismatch Problem = "mount_upper_mismatch"
	// UpperShared: one upper dir mounted in several places.
	UpperShared Problem = "upper_multiply_mounted"
)

// String returns the kind as written in JSON.
func (p Problem) String() string { return string(p) }

// Warning is the kind of a warning of the mount scan: something that
// could not be read; the scan went on. Drivers add their own kinds when a
// mount's options do not decode (mount_options_malformed,
// aufs_branches_unknown), and reading the containers adds its own.
type Warning string

// The kinds of warnings the mount scan itself gives.
const (
	// TableMalformed: a line of a mount table does not parse.
	TableMalformed Warning = "mountinfo_malformed"
	// TableUnreadable: a mount table could not be read.
	TableUnreadable Warning = "mountinfo_unreadable"
	// RecordUnreadable: a container's mount record (layerdb/mounts/<id>)
	// could not be read.
	RecordUnreadable Warning = "mount_record_unreadable"
	// ClaimedTwice: one layer dir is named by the records of several containers.
	ClaimedTwice Warning = "layer_dir_claimed_twice"
)

// String returns the kind as written in JSON.
func (w Warning) String() string { return string(w) }

// Role says which of its container's layers a mounted layer is.
type Role string

// The layers of a container that are mounted.
const (
	RoleRW   Role = "rw"   // the writable layer (mount-id)
	RoleInit Role = "init" // the init layer below it (init-id)
)

// String returns the role as written in JSON.
func (r Role) String() string { return string(r) }

// Is another process still running? Asked where nothing else would tell: the
// PLE shared-memory protocol has no socket whose closing says the other side
// died (the client asks about the service while it waits, the service about
// clients and dead services' leftover segments), and serve removes the run
// directories of serve processes that were killed.
#pragma once

namespace gemma3n {

// False when `pid` does not exist (kill(pid, 0) fails with ESRCH) or is a
// zombie (exited but not yet reaped by its parent: kill() still succeeds for
// it, /proc/<pid>/stat says 'Z'). True otherwise, including EPERM (exists,
// another user's).
bool ProcessAlive(int pid);

// The cheap half of ProcessAlive (one syscall, no /proc read): false only when
// the pid does not exist at all. For the per-lookup check on the hot path.
bool ProcessExists(int pid);

}  // namespace gemma3n

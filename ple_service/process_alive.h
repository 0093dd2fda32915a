// Is another process still running? The shared-memory protocol has no socket
// whose closing would tell one side that the other died, so both sides ask the
// kernel: the client about the service while it waits for an answer, the
// service about clients (and about dead services' leftover segments).
#pragma once

namespace gemma3n::ple {

// False when `pid` does not exist (kill(pid, 0) fails with ESRCH) or is a
// zombie (exited but not yet reaped by its parent: kill() still succeeds for
// it, /proc/<pid>/stat says 'Z'). True otherwise, including EPERM (exists,
// another user's).
bool ProcessAlive(int pid);

// The cheap half of ProcessAlive (one syscall, no /proc read): false only when
// the pid does not exist at all. For the per-lookup check on the hot path.
bool ProcessExists(int pid);

}  // namespace gemma3n::ple

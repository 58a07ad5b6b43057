//go:build unix && !linux

package executor

import "syscall"

// setDeathSignal does nothing where the OS has no parent-death signal: a deploy
// may then outlive a crashed apply, which the next apply finds in the journal.
func setDeathSignal(*syscall.SysProcAttr) {}

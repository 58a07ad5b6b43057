//go:build linux

package executor

import "syscall"

// setDeathSignal makes the kernel kill the deploy command when the thread that
// started it, and so nonstop, dies (kill -9 included): a crashed apply leaves no
// deploy running behind the next one's back.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }

//go:build unix

package executor

import (
	"os/exec"
	"syscall"
)

// killGroupOnCancel runs the command in its own process group and, when its context
// ends, sends SIGTERM to the whole group, so that a deploy script's children stop
// with it. A finished command's background children are left alone.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
}

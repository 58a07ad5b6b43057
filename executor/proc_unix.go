//go:build unix

package executor

import (
	"os/exec"
	"syscall"
)

// killGroupOnCancel runs the command in its own process group (its pid is the
// group's id, which the journal records) and, when its context ends, sends SIGTERM
// to the whole group, so that a deploy script's children stop with it. Where the
// OS allows (Linux), the command also gets SIGKILL when nonstop dies. A finished
// command's background children (the service it started) are left alone.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr)
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
}

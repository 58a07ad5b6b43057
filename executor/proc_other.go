//go:build !unix

package executor

import "os/exec"

// killGroupOnCancel keeps exec's default: the command itself is killed when its
// context ends.
func killGroupOnCancel(cmd *exec.Cmd) {}

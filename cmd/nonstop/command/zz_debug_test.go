package command

import "testing"

func TestZZDebug(t *testing.T) {
	dir := fakeFleet(t)
	t.Log(run(t, quiet, "", "apply", "-auto-approve", dir))
	t.Log(run(t, quiet, "", "state", "show", dir))
	t.Log(run(t, quiet, "", "history", dir))
	t.Log(run(t, quiet, "", "resume", dir, "shop.3"))
	l, _ := readFakeLive(dir + "/live.json"); l.Pools["shop"][0].Weight = 7; writeFakeLive(dir+"/live.json", l)
	t.Log(run(t, quiet, "", "apply", "-json", "-auto-approve", "-var", "delay=1ms", dir))
}

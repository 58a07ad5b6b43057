package testfleet

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestZZExplore(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		return
	}
	p := StartPolaris(t)
	fmt.Printf("NACOS=%s NATIVE=%s DIR=%s\n", p.NacosAddr, p.NativeAddr, p.Dir)
	time.Sleep(20 * time.Minute)
}

package nacos

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/providers"
)

// TestConfigRoundTrip checks what Polaris v1.18.1 honours: create-if-absent with a
// CAS, conflict on a stale MD5, a plain publish (visible after about a second, its
// config cache being eventually consistent) and delete. A CAS update with the right
// MD5 cannot be checked here: Polaris refuses every one (TestConfigCASUpdateOnPolaris).
func TestConfigRoundTrip(t *testing.T) {
	n := newProvider(t, nil)
	ctx := context.Background()
	key := providers.ConfigKey{DataID: serviceName(t) + ".lock", Group: "NONSTOP"}

	_, _, found, err := n.GetConfig(ctx, key)
	if err != nil || found {
		t.Fatalf("absent document: found=%t err=%v", found, err)
	}
	// Create-if-absent through CAS.
	if err := n.PublishConfig(ctx, key, "owner=a", contentMD5("")); err != nil {
		t.Fatalf("CAS create of an absent document: %v", err)
	}
	waitConfig(t, n, key, "owner=a")

	// A stale MD5 is a conflict, and the document is unchanged.
	err = n.PublishConfig(ctx, key, "owner=b", contentMD5("owner=stale"))
	if !errors.Is(err, providers.ErrConflict) {
		t.Fatalf("CAS with a stale md5: got %v, want ErrConflict", err)
	}
	waitConfig(t, n, key, "owner=a")

	// A plain publish overwrites.
	if err := n.PublishConfig(ctx, key, "owner=c", ""); err != nil {
		t.Fatal(err)
	}
	took := waitConfig(t, n, key, "owner=c")
	t.Logf("plain publish visible after %s", took)

	if err := n.PublishConfig(ctx, key, "", ""); err == nil {
		t.Error("publishing empty content succeeded")
	}

	if err := n.DeleteConfig(ctx, key); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "deleted document disappears", func() (bool, string) {
		content, _, found, err := n.GetConfig(ctx, key)
		return err == nil && !found, fmt.Sprintf("found=%t content=%q err=%v", found, content, err)
	})
}

// TestConfigCASUpdateOnPolaris records Polaris v1.18.1's known defect: it refuses a
// CAS update of an existing document even with the right MD5, because its Nacos
// bridge never passes casMd5 on. nonstop therefore reports a conflict (safe) rather
// than overwriting. If this test fails, Polaris has been fixed: turn it into a
// positive CAS update test.
func TestConfigCASUpdateOnPolaris(t *testing.T) {
	n := newProvider(t, nil)
	ctx := context.Background()
	key := providers.ConfigKey{DataID: serviceName(t), Group: "NONSTOP"}
	if err := n.PublishConfig(ctx, key, "v1", ""); err != nil {
		t.Fatal(err)
	}
	waitConfig(t, n, key, "v1")
	_, md5, _, _ := n.GetConfig(ctx, key)
	err := n.PublishConfig(ctx, key, "v2", md5)
	if !errors.Is(err, providers.ErrConflict) {
		t.Fatalf("CAS update with the current md5 on Polaris: got %v, want its (defective) conflict", err)
	}
	if err := n.DeleteConfig(ctx, key); err != nil {
		t.Fatal(err)
	}
}

// waitConfig waits until GetConfig returns content with its MD5.
func waitConfig(t *testing.T, n *Nacos, key providers.ConfigKey, content string) time.Duration {
	t.Helper()
	return eventually(t, 5*time.Second, "config "+key.DataID+" = "+content, func() (bool, string) {
		got, md5, found, err := n.GetConfig(context.Background(), key)
		ok := err == nil && found && got == content && md5 == contentMD5(content)
		return ok, fmt.Sprintf("found=%t content=%q md5=%s err=%v", found, got, md5, err)
	})
}

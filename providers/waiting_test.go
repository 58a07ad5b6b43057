package providers

import (
	"context"
	"testing"
)

func TestWaitsFromHere(t *testing.T) {
	WaitsFromHere(context.Background()) // without a scheduler: nothing
	n := 0
	ctx := WithWaitsFromHere(context.Background(), func() { n++ })
	WaitsFromHere(ctx)
	WaitsFromHere(context.WithValue(ctx, struct{}{}, 1))
	if n != 1 {
		t.Errorf("release called %d times, want once", n)
	}
}

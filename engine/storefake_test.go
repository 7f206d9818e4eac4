package engine_test

import (
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/store/storetest"
)

// TestFakeStore_Conformance holds the engine tests' store to the rules of
// the real one, so that no engine test passes on a rule production breaks.
func TestFakeStore_Conformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{Open: func(*testing.T) engine.Store { return engine.NewFakeStore() }})
}

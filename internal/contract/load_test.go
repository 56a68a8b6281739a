package contract

import (
	"testing"
	"time"
)

func TestLoadAppliesEveryPatch(t *testing.T) {
	start := time.Now()
	s, err := Load(DefaultDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded in %v", time.Since(start))
	for i, e := range Exceptions {
		if e.message == nil {
			if s.Hits(i) == 0 {
				t.Errorf("spec patch no longer needed: %v", e)
			}
			t.Logf("patch %q: %d", e.Where, s.Hits(i))
		}
	}
}

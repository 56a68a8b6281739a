package store

import "testing"

// TestVersionedCache: a value is served only at the version it was stored
// at, and the cache starts again empty past its bound.
func TestVersionedCache(t *testing.T) {
	t.Parallel()
	c := NewVersionedCache[string](2)
	c.Put("a", 1, "a@1")
	if v, ok := c.Get("a", 1); !ok || v != "a@1" {
		t.Errorf("Get(a, 1) = %q, %v", v, ok)
	}
	if _, ok := c.Get("a", 2); ok {
		t.Error("Get(a, 2) served the value stored at version 1")
	}
	if _, ok := c.Get("b", 1); ok {
		t.Error("Get(b, 1) served a value never stored")
	}
	c.Put("a", 2, "a@2")
	c.Put("b", 2, "b@2")
	c.Put("c", 2, "c@2") // past the bound: the cache starts again
	if _, ok := c.Get("a", 2); ok {
		t.Error("the cache kept more than its bound")
	}
	if v, ok := c.Get("c", 2); !ok || v != "c@2" {
		t.Errorf("Get(c, 2) = %q, %v", v, ok)
	}
}

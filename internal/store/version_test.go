package store

import "testing"

// TestVersionedCache: a value is served only at the version it was stored
// at, and the cache starts again empty past its bound.
func TestVersionedCache(t *testing.T) {
	t.Parallel()
	c := NewVersionedCache(2, func(s string) string { return s }, nil)
	c.put("a", 1, "a@1")
	if v, ok := c.get("a", 1); !ok || v != "a@1" {
		t.Errorf("Get(a, 1) = %q, %v", v, ok)
	}
	if _, ok := c.get("a", 2); ok {
		t.Error("Get(a, 2) served the value stored at version 1")
	}
	if _, ok := c.get("b", 1); ok {
		t.Error("Get(b, 1) served a value never stored")
	}
	c.put("a", 2, "a@2")
	c.put("b", 2, "b@2")
	c.put("c", 2, "c@2") // past the bound: the cache starts again
	if _, ok := c.get("a", 2); ok {
		t.Error("the cache kept more than its bound")
	}
	if v, ok := c.get("c", 2); !ok || v != "c@2" {
		t.Errorf("Get(c, 2) = %q, %v", v, ok)
	}
}

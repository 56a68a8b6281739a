package action_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/deskconn/deskconn/internal/action"
)

// fileIn is the shape of an attachment action's input: a large base64
// string next to a few small fields.
type fileIn struct {
	action.WriteOptions
	TicketID string `json:"ticketId" schema:"minLength=1"`
	FileName string `json:"fileName" schema:"minLength=1"`
	FileData string `json:"fileData" schema:"minLength=1"`
}

// fileAction is a write action whose handler only reads the length of
// fileData, as an upload streaming from the string does.
func fileAction() *action.Action {
	return action.Define("toy_attach", action.Info{
		Title: "Toy attach", Description: "Attaches a toy file. Use it in tests.", Write: true,
	}, func(_ context.Context, _ *action.Call, in fileIn) (toyOut, error) {
		return toyOut{ID: "A1", Subject: fmt.Sprint(len(in.FileData))}, nil
	})
}

// bigFileInput returns toy_attach's input with size bytes of file as
// base64, and an idempotency key when key is true.
func bigFileInput(size int, key bool) json.RawMessage {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 31)
	}
	k := ""
	if key {
		k = `"idempotencyKey":"k1",`
	}
	return json.RawMessage(`{` + k + `"ticketId":"1","fileName":"a.bin","fileData":"` + base64.StdEncoding.EncodeToString(data) + `"}`)
}

// invokeFootprint runs one Invoke of raw and returns the bytes allocated
// and the highest heap growth seen while it ran (sampled every
// millisecond from runtime/metrics, after a GC just before).
func invokeFootprint(t testing.TB, r *action.Registry, raw json.RawMessage) (allocated, peak uint64) {
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	read := func() (uint64, uint64) {
		metrics.Read(samples)
		return samples[0].Value.Uint64(), samples[1].Value.Uint64()
	}
	runtime.GC()
	base, alloc0 := read()
	top := base
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if h, _ := read(); h > top {
					top = h
				}
			}
		}
	}()
	_, err := r.Invoke(context.Background(), target(), "toy_attach", raw, action.InvokeOptions{})
	close(stop)
	<-done
	h, alloc1 := read()
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	return alloc1 - alloc0, max(top, h) - base
}

// TestInvokeMemoryPerFileByte bounds what Invoke allocates for a large
// base64 input, per byte of the decoded file: the registry must not copy
// the input several times (parse, validate, decode, hash). A regression
// that adds a copy of the base64 text adds about 1.33 per byte.
func TestInvokeMemoryPerFileByte(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates tens of MiB")
	}
	const size = 8 << 20
	r := action.NewRegistry(action.Options{Idempotency: newFakeStore()})
	r.Add(fileAction())
	for _, key := range []bool{false, true} {
		raw := bigFileInput(size, key)
		allocated, peak := invokeFootprint(t, r, raw)
		perByte := float64(allocated) / size
		t.Logf("idempotency key %v: allocated %.2f bytes and peak heap growth %.2f bytes per file byte", key, perByte, float64(peak)/size)
		if perByte > maxAllocPerFileByte {
			t.Errorf("idempotency key %v: Invoke allocated %.2f bytes per file byte, want at most %.2f", key, perByte, maxAllocPerFileByte)
		}
	}
}

// maxAllocPerFileByte is the allocation budget of TestInvokeMemoryPerFileByte.
const maxAllocPerFileByte = 3.0

// BenchmarkInvokeLargeFile reports Invoke's allocations per MiB of a file
// sent inline as base64 (alloc-MiB/file-MiB), with an idempotency key.
func BenchmarkInvokeLargeFile(b *testing.B) {
	const size = 4 << 20
	r := action.NewRegistry(action.Options{Idempotency: newFakeStore()})
	r.Add(fileAction())
	raw := bigFileInput(size, false)
	b.ReportAllocs()
	b.SetBytes(size)
	var total uint64
	for b.Loop() {
		allocated, _ := invokeFootprint(b, r, raw)
		total += allocated
	}
	b.ReportMetric(float64(total)/float64(b.N)/size, "alloc-MiB/file-MiB")
}

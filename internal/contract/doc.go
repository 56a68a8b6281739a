// Package contract validates HTTP traffic against Zoho's own OpenAPI 3.1
// description of the Zoho Desk API v1 (the zoho/zohodesk-oas files in
// internal/contract/testdata/zohodesk-oas/v1.0, a copy of shared/reference/zohodesk-oas).
//
// Zoho's files are loaded, merged into one document (each file's components
// are prefixed with the file name, cross-file $refs rewritten) and patched
// where they are demonstrably wrong. Every patch, and every validation
// message that is tolerated, is a row of the single Exceptions table with the
// reason; a row that is no longer needed is reported by Spec.Unused, so the
// table cannot rot.
//
// Use it in tests:
//
//	spec, err := contract.Load(contract.DefaultDir(), nil)
//	rec := contract.NewRecorder(spec, handler, contract.ValidateRequests)
//	srv := httptest.NewServer(rec)
//	// ... drive srv ...
//	for _, p := range rec.Problems() { t.Error(p) }
//
// The package is for tests: it reads files from disk and holds whole bodies
// in memory.
package contract

package emulator

// TrashedMode is how the emulator answers GET and PATCH of a ticket that is
// in the trash (Options.TrashedTickets).
type TrashedMode string

const (
	// TrashedNotFound answers 404 URL_NOT_FOUND, as if the ticket did not
	// exist. This is the default: the most documented reading [GAP] (Zoho's
	// reference documents no trashed-ticket answer; fidelity audit row 6).
	TrashedNotFound TrashedMode = ""
	// TrashedVisible answers GET with the ticket and "isTrashed": true, and
	// applies a PATCH to it: the other plausible reading, suggested by the
	// isTrashed flag on the ticket objects of recorded desk.zoho.com answers
	// (fidelity audit row 6, NANGO-REC).
	TrashedVisible TrashedMode = "visible"
)

// trashedHidden reports whether a ticket in the trash is answered as not
// found by GET and PATCH /tickets/{id}.
func (e *Emulator) trashedHidden(t *ticket) bool {
	return t.Trashed && e.opts.TrashedTickets != TrashedVisible
}

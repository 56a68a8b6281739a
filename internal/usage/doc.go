// Package usage is what the console shows of a connection's use: counts
// of every action call (reads too) per connection and minute, the Zoho
// Desk organisation's daily credit limit by edition and agents, and the
// connection's health built from both.
//
// Counts are kept in memory by a Counter (an action.Options.Observer,
// which adds no store write to a call) and flushed as increments to the
// store's call_counts table about once a minute; a crash loses what was
// not yet flushed, at most about a minute of counts.
package usage

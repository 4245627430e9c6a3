"""Writes of the decisions app, one module per concern: `records` (create, edit), `status` (the
status machine and supersession), `links` (typed related links), `evidence`, `revisit`,
`drafts` (from a worksheet or a switch flag), `imports` and `archives` (ADR folders in),
`exports` (markdown out); `history` is what every write goes through."""

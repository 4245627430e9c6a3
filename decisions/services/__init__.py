"""Writes of the decisions app, one module per concern: `records` (create, edit), `status` (the
status machine and supersession), `evidence`, `revisit`, `drafts` (from a worksheet or a switch
flag), `exchange` (MADR import and export); `history` is what every write goes through."""

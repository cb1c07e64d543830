"""Report library: engine results -> the DESIGN §6 dicts, and one output layer (table, CSV, xlsx, JSON) shared by
the CLI and the Fava pages."""

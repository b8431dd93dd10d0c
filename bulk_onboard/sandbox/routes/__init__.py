"""HTTP handlers of the emulated /api/2.0 endpoints, one module per area."""

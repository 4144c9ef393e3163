"""Design-space sweeps: models x hardware points x mappings through the real pipeline, on local
worker processes or a Ray cluster, into a resumable store and a columnar table (docs/sweep.md)."""

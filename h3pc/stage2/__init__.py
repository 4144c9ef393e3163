"""Stage two: quality-driven refinement of the stage-one mapping (row remap)."""

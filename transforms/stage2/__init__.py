"""Stage two: quality-driven refinement of the stage-one mapping (row remap, precision refinement)."""

#: precision refinement's trials by default (each compiles and emulates the calibration set once);
#: here, not in precision.py, so the CLI's defaults do not import the emulator
MAX_TRIALS = 40

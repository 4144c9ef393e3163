"""Stage one: tier partitioning (CP-SAT and the baselines) over per-layer cost tables."""

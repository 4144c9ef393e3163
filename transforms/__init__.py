"""Pass implementations, one ModulePass per file named after its CLI name."""

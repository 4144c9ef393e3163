"""Runtime: numpy reference semantics of nn ops and the emulator."""

"""h3pc: a compiler toolchain for hybrid electronic-photonic-PIM AI accelerators."""

__version__ = "0.1.0"

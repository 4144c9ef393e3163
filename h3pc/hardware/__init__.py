"""The hardware description: one strictly validated YAML file read by compiler and emulator alike."""

from h3pc.hardware.schema import HardwareConfig, load_hardware

__all__ = ["HardwareConfig", "load_hardware"]

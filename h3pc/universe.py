"""xDSL plug-in: makes the h3pc dialects and passes visible to the stock `xdsl-opt`."""

from xdsl.universe import Universe

from h3pc.dialects import DIALECTS
from h3pc.transforms import PASSES

UNIVERSE = Universe(all_dialects=DIALECTS, all_passes=PASSES)

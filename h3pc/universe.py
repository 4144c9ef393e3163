"""xDSL plug-in: makes the h3pc dialects and passes visible to the stock `xdsl-opt`."""

from xdsl.universe import Universe

from h3pc.context import DIALECTS, PASSES

UNIVERSE = Universe(all_dialects=DIALECTS, all_passes=PASSES)

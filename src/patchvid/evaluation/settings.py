"""The measures ``patchvid evaluate`` can take, in a torch-free module (the command line reads them
at start-up)."""

MEASURES = ("coherence", "completeness", "swd", "nnfdiv", "features", "diversity", "seam", "cost")
DEFAULT_MEASURES = ("coherence", "completeness", "swd", "nnfdiv", "features", "diversity")

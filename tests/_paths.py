"""Where the tests find their files.

Everything is inside the repository: the small media committed in
``tests/data`` (see ``tests/data/README.md``) and the label / channel maps
shipped with the package (``uniformer_mm/label_maps``, read through
``'uniformer_mm::label_maps/NAME'`` paths). Paths are located relative to
this file, so the suite runs from a clone with nothing beside it.
"""
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
DATA = TESTS / 'data'
VIDEOS = DATA / 'videos'
FRAMES = DATA / 'frames'
TEST_JPG = DATA / 'test.jpg'
#: a real Kinetics-400 clip (arm wrestling), 340x256, 280 frames
KINETICS_CLIP = VIDEOS / 'kinetics_arm_wrestling.mp4'
TEST_MP4 = VIDEOS / 'test.mp4'
TEST_AVI = VIDEOS / 'test.avi'


def label_map(name: str) -> str:
    """The package path of a shipped label / channel map, e.g.
    ``label_map('kinetics400.txt')``."""
    return f'uniformer_mm::label_maps/{name}'


#: the analysis tools (benchmarks and comparisons against other projects:
#: not part of the installed package)
ANALYSIS_TOOLS = REPO / 'tools' / 'analysis'


def analysis_tool(name: str):
    """Import ``tools/analysis/NAME.py`` as the module ``NAME`` (its folder
    put on ``sys.path``, where the tools find each other)."""
    import importlib
    import sys
    if str(ANALYSIS_TOOLS) not in sys.path:
        sys.path.insert(0, str(ANALYSIS_TOOLS))
    return importlib.import_module(name)

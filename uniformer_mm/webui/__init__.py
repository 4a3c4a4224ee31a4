"""A local web page to try a model on a video, an image or frames
(``python tools/webui.py``; see docs/webui.md).

:mod:`.core` does the work with :mod:`uniformer_mm.apis` alone (it imports
without gradio); :mod:`.app` is the Gradio page around it (gradio is an
optional extra, ``requirements/webui.txt``).
"""
from .core import (Classification, InputError, ModelEntry, classify,
                   find_work_dir_models, read_upload, sample_inputs)

__all__ = [
    'Classification', 'InputError', 'ModelEntry', 'classify',
    'find_work_dir_models', 'read_upload', 'sample_inputs'
]

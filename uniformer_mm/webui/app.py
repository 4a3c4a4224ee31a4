"""The Gradio page of ``tools/webui.py`` (gradio is an optional extra:
``pip install -r requirements/webui.txt``).

:class:`Session` holds the models the page offers and loads them on
demand; :func:`build_app` lays out the page; :func:`launch` serves it on the
local machine with Gradio's analytics, version check, share tunnel, server
side rendering and MCP server off, so that the page makes no request beyond
the host it is served from (its fonts and scripts are Gradio's bundled
files).
"""
import os
import shutil
import tempfile
from typing import Dict, List, Optional, Sequence

from uniformer_mm.apis import class_names, get_task, init_model

from .core import (Classification, InputError, ModelEntry, classify,
                   describe_error, error_html, num_classes, read_upload,
                   result_html, sample_inputs)

__all__ = ['Session', 'build_app', 'launch', 'offline_environment',
           'load_entry', 'PLACEHOLDER']

PLACEHOLDER = (
    '<div id="umm-output" class="umm-result" data-status="empty" '
    'style="color:#6b7280;padding:8px">Upload a video, an image, several '
    'images or a .zip of frames, or pick a bundled sample: the top-5 '
    'classes appear here.</div>')

_CSS = """
#umm-strip img { image-rendering: pixelated; object-fit: contain; }
"""


def offline_environment():
    """Switch off everything of Gradio / Hugging Face Hub that calls out
    (analytics, version check, telemetry) and keep local requests away from
    proxies. Call before importing gradio."""
    os.environ['GRADIO_ANALYTICS_ENABLED'] = 'False'
    os.environ['HF_HUB_DISABLE_TELEMETRY'] = '1'
    os.environ['DO_NOT_TRACK'] = '1'
    local = '127.0.0.1,localhost,::1'
    for key in ('NO_PROXY', 'no_proxy'):
        value = os.environ.get(key)
        os.environ[key] = f'{value},{local}' if value else local


def load_entry(entry: ModelEntry, device: str, cfg_options=None):
    """The model of an entry, in eval mode on ``device``, with ``.cfg`` and
    ``.task``."""
    if entry.name is not None:
        from uniformer_mm import get_model  # the CLI checked it exists
        model = get_model(entry.name)
        if getattr(model, 'cfg', None) is None:
            raise ValueError(f'model {entry.name!r} of the model index has '
                             'no config (.cfg); pass CONFIG CHECKPOINT')
        model.to(device).eval()
    else:
        checkpoint = entry.checkpoint
        if checkpoint is not None and checkpoint.lower() == 'none':
            checkpoint = None
        model = init_model(entry.config, checkpoint, device=device,
                           cfg_options=cfg_options)
    if getattr(model, 'task', None) is None:
        model.task = get_task(model.cfg)
    return model


class Session:
    """The models of one page and the one loaded now.

    Args:
        entries: the models offered (the first is loaded at start).
        device: where models run (``cpu``, ``cuda``, ``cuda:1``...).
        label_map: class names file used for every model (else the
            checkpoint's ``dataset_meta['classes']``, as tools/infer.py).
        cfg_options: dotted-key config overrides (``--cfg-options``).
        topk: predictions shown.
    """

    def __init__(self, entries: Sequence[ModelEntry], device: str = 'cpu',
                 label_map: Optional[str] = None, cfg_options=None,
                 topk: int = 5):
        if not entries:
            raise ValueError('no model to offer')
        self.entries: Dict[str, ModelEntry] = {e.label: e for e in entries}
        self.device = device
        self.label_map = label_map
        self.cfg_options = cfg_options
        self.topk = topk
        self.cache_dir = tempfile.mkdtemp(prefix='uniformer_mm_webui_')
        self.label = None
        self.model = None
        self.names = None
        self.samples: Dict[str, object] = {}

    @property
    def labels(self) -> List[str]:
        return list(self.entries)

    def close(self):
        shutil.rmtree(self.cache_dir, ignore_errors=True)

    def select(self, label: str):
        """Load the model of ``label`` unless it is the current one."""
        if label == self.label and self.model is not None:
            return self.model
        entry = self.entries.get(label)
        if entry is None:
            raise ValueError(f'unknown model {label!r}')
        # free the old model before building the new one
        self.label = self.model = self.names = None
        self.samples = {}
        model = load_entry(entry, self.device, self.cfg_options)
        self.names = class_names(model, self.label_map)
        self.samples = sample_inputs(model, self.cache_dir)
        self.label, self.model = label, model
        return model

    def model_markdown(self) -> str:
        """What the loaded model is, for the page."""
        entry, model = self.entries[self.label], self.model
        if entry.name is not None:
            source = f'`{entry.name}` (model index)'
        else:
            source = (f'config `{entry.config}`, checkpoint '
                      f'`{entry.checkpoint}`')
        classes = num_classes(model)
        if self.names is not None:
            origin = ('label map' if self.label_map
                      else "the checkpoint's class names")
            names = f'{classes} classes (names from {origin})'
        else:
            names = f'{classes} classes (no names: pass --label-map)'
        kind = 'video (mmaction2)' if model.task == 'video' \
            else 'image (mmpretrain)'
        return (f'**Model**: {source} · {kind} · {names} · '
                f'device `{self.device}`')

    # -------------------------------------------------------------- events
    def _load(self, label):
        """The model of ``label``, or ``(None, error html)``."""
        try:
            return self.select(label), None
        except Exception as err:
            message = describe_error(label, err)
            print(f'webui: {message}', flush=True)
            return None, error_html(label, message)

    def _run(self, label, paths, fallback_name):
        """``(html, strip, strip_note)`` for the page; never raises."""
        model, failed = self._load(label)
        if model is None:
            return failed, None, ''
        given = [paths] if isinstance(paths, str) else list(paths or [])
        name = os.path.basename(str(given[0])) if len(given) == 1 \
            else fallback_name
        try:
            source, name, kind = read_upload(paths)
            result: Classification = classify(model, source, name, kind,
                                              self.names, self.topk)
        except Exception as err:  # shown on the page; the server goes on
            message = describe_error(name, err, given)
            if not isinstance(err, InputError):
                print(f'webui: {message}', flush=True)
            return error_html(name, message), None, ''
        return (result_html(result), result.strip,
                f'Frames the test pipeline sampled: {result.strip_note}.')

    def on_upload(self, files, label):
        """Classify what was uploaded."""
        return self._run(label, files, 'upload')

    def on_sample(self, sample, label):
        """Classify a bundled sample."""
        model, failed = self._load(label)
        if model is None:
            return failed, None, ''
        paths = self.samples.get(sample)
        if paths is None:
            return (error_html(str(sample), f'{sample}: not a sample of this '
                               'model; pick one from the list'), None, '')
        return self._run(label, paths, str(sample))

    def on_model(self, label):
        """Switch models: new description and samples, results cleared."""
        import gradio as gr
        model, failed = self._load(label)
        if model is None:
            return '', gr.update(choices=[], value=None), failed, None, ''
        choices = list(self.samples)
        return (self.model_markdown(),
                gr.update(choices=choices,
                          value=choices[0] if choices else None),
                PLACEHOLDER, None, '')


def build_app(session: Session):
    """The page (a ``gradio.Blocks``) for a session whose first model is
    loaded."""
    import gradio as gr
    if session.model is None:
        session.select(session.labels[0])
    samples = list(session.samples)
    # uploads and strips older than an hour are deleted, checked hourly
    with gr.Blocks(title='uniformer-mm: try a model',
                   analytics_enabled=False,
                   delete_cache=(3600, 3600)) as app:
        gr.Markdown('## UniFormer: try a model on your video or image')
        model = gr.Dropdown(choices=session.labels, value=session.label,
                            label='Model', elem_id='umm-model',
                            interactive=len(session.labels) > 1)
        info = gr.Markdown(session.model_markdown(), elem_id='umm-model-info')
        with gr.Row():
            with gr.Column(scale=2):
                with gr.Tab('Video / image / zip'):
                    upload = gr.File(
                        label='A video, an image or a .zip of frames',
                        file_count='single', elem_id='umm-upload',
                        height=150)
                    run_upload = gr.Button('Classify', variant='primary',
                                           elem_id='umm-run-upload')
                with gr.Tab('Frames'):
                    frames = gr.File(
                        label='The frames of a clip (several images, '
                        'taken in name order)', file_count='multiple',
                        file_types=['image'], elem_id='umm-frames',
                        height=150)
                    run_frames = gr.Button('Classify the frames',
                                           variant='primary',
                                           elem_id='umm-run-frames')
                with gr.Tab('Sample'):
                    sample = gr.Dropdown(
                        choices=samples,
                        value=samples[0] if samples else None,
                        label='A bundled sample', elem_id='umm-sample')
                    run_sample = gr.Button('Classify the sample',
                                           variant='primary',
                                           elem_id='umm-run-sample')
            with gr.Column(scale=3):
                output = gr.HTML(PLACEHOLDER, elem_id='umm-result')
        strip = gr.Image(label='Frames the test pipeline samples (what the '
                         'model sees; rows: views)', type='numpy',
                         interactive=False, elem_id='umm-strip', height=260,
                         buttons=['download', 'fullscreen'])
        strip_note = gr.Markdown(elem_id='umm-strip-note')
        results = [output, strip, strip_note]
        events = dict(concurrency_limit=1, concurrency_id='model')
        for files, button in ((upload, run_upload), (frames, run_frames)):
            files.upload(session.on_upload, [files, model], results,
                         **events)
            button.click(session.on_upload, [files, model], results,
                         **events)
        run_sample.click(session.on_sample, [sample, model], results,
                         **events)
        model.change(session.on_model, [model],
                     [info, sample, output, strip, strip_note], **events)
    return app


def launch(app, host: str = '127.0.0.1', port: int = 7860,
           max_file_size: str = '1gb'):
    """Serve the page until interrupted (blocks)."""
    app.queue(default_concurrency_limit=1)
    app.launch(server_name=host, server_port=port, share=False,
               inbrowser=False, show_error=True, ssr_mode=False,
               mcp_server=False, pwa=False, footer_links=[],
               enable_monitoring=False, max_file_size=max_file_size,
               css=_CSS)

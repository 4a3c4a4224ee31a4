"""Tests of the web page (tools/webui.py, uniformer_mm.webui).

The first tests run the page's logic without a browser (uploads, the
frame strip, the notes, the model list, the command line's one-line
errors). ``test_webui_in_browser`` trains a tiny demo model, serves the page
on 127.0.0.1 in a subprocess and drives it from headless Chromium
(selenium): it uploads real mp4 files made here and compares the page's
top-k with ``tools/infer.py``'s output for the same file and checkpoint.

That test needs Debian's ``chromium`` + ``chromium-driver`` (or
``UMM_CHROMIUM`` / ``UMM_CHROMEDRIVER`` naming the binaries), gradio
(``requirements/webui.txt``) and selenium (``requirements/tests.txt``); it
is skipped, saying which is missing, without them. With
``UMM_WEBUI_SCREENSHOT=path.png`` it saves a screenshot of the page showing
a result; ``UMM_WEBUI_MODEL="CONFIG CHECKPOINT"`` serves that model instead
of the tiny one (how docs/webui.png was made, see docs/webui.md).
"""
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest

import uniformer_mm  # noqa: F401  (compat fixes, registries)
from uniformer_mm.apis import init_model, predict_scores, prepare_inputs
from uniformer_mm.apis import test_pipeline_cfg as pipeline_of
from uniformer_mm.datasets.demo_data import (VIDEO_CLASSES, _write_mp4,
                                             render_video)
from uniformer_mm.webui.core import (InputError, classify, clip_span,
                                     describe_error, error_html,
                                     find_work_dir_models, frame_strip,
                                     read_upload, result_html)

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / 'data'
FRAMES = sorted((DATA / 'frames').glob('*.jpg'))
DEMO_CFG = REPO / 'configs' / 'demo' / 'uniformer_demo_video.py'
CHROMIUM = os.environ.get('UMM_CHROMIUM', '/usr/bin/chromium')
CHROMEDRIVER = os.environ.get('UMM_CHROMEDRIVER', '/usr/bin/chromedriver')

# the demo config with a tiny backbone (8-frame clips, 64x64)
TINY = f'''
_base_ = [r'{DEMO_CFG}']
model = dict(
    backbone=dict(arch=dict(embed_dims=[16, 32, 64, 64], depths=[1, 1, 1, 1],
                            head_dim=16)),
    cls_head=dict(in_channels=64))
'''
# the demo's test pipeline with 2 clips x 3 crops (64x64 out of 96x64) = 6
# views, set where tools/test.py (and so the API) reads it
_TEST = 'test_dataloader.dataset.pipeline'
MULTI_VIEW = {
    f'{_TEST}.1.num_clips': 2,
    f'{_TEST}.3.scale': (96, 64),
    f'{_TEST}.3.keep_ratio': False,
    f'{_TEST}.4.type': 'ThreeCrop',
}


def write_video(path, label=2, num_frames=16, size=96, seed=7):
    """A real mp4 of the demo's kind (a shape moving in direction
    ``VIDEO_CLASSES[label]``)."""
    frames = render_video(np.random.default_rng(seed), label, num_frames,
                          size)
    _write_mp4(str(path), frames, 8)
    return Path(path)


def load_webui_tool():
    spec = importlib.util.spec_from_file_location('_tool_webui',
                                                  REPO / 'tools' / 'webui.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tiny_models(tmp_path_factory):
    d = tmp_path_factory.mktemp('webui_cfgs')
    (d / 'tiny.py').write_text(TINY)
    import torch
    torch.manual_seed(0)
    multiview = init_model(d / 'tiny.py', cfg_options=MULTI_VIEW)
    steps = [s['type'] for s in pipeline_of(multiview.cfg)[0]]
    assert steps[1:5] == ['UniformSample', 'VideoDecode', 'Resize',
                          'ThreeCrop']
    return dict(tiny=init_model(d / 'tiny.py'), multiview=multiview, dir=d)


# --------------------------------------------------------------------------
# uploads
# --------------------------------------------------------------------------
def test_read_upload_frames(tmp_path):
    assert len(FRAMES) == 10
    expected = np.stack([
        cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in FRAMES
    ])
    # several images, given out of order: name order (img_00002 < img_00010)
    shuffled = [str(f) for f in FRAMES[::-1]]
    frames, name, kind = read_upload(shuffled)
    assert kind == 'frames' and name.startswith('10 images')
    np.testing.assert_array_equal(frames, expected)
    # the same frames in a zip (in a sub-folder, with a stray text file)
    archive = tmp_path / 'clip.zip'
    with zipfile.ZipFile(archive, 'w') as z:
        for f in FRAMES[::-1]:
            z.write(f, f'clip/{f.name}')
        z.writestr('clip/readme.txt', 'not a frame')
    frames, name, kind = read_upload(str(archive))
    assert (name, kind) == ('clip.zip', 'frames')
    np.testing.assert_array_equal(frames, expected)
    # single files are passed on as paths
    video = write_video(tmp_path / 'v.mp4')
    assert read_upload(str(video)) == (str(video), 'v.mp4', 'video')
    assert read_upload([str(DATA / 'test.jpg')])[2] == 'image'

    # bad uploads: one line naming the culprit
    small = tmp_path / 'img_00011.jpg'
    cv2.imwrite(str(small), np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(InputError, match=r'img_00011.jpg is 30x20 but '
                       r'img_00001.jpg is \d+x\d+: all frames must'):
        read_upload([str(f) for f in FRAMES] + [str(small)])
    with pytest.raises(InputError, match='v.mp4, which is not an image'):
        read_upload([str(FRAMES[0]), str(video)])
    empty = tmp_path / 'empty.zip'
    with zipfile.ZipFile(empty, 'w') as z:
        z.writestr('notes.txt', 'x')
    with pytest.raises(InputError, match='empty.zip: the zip holds no '
                       'images'):
        read_upload(str(empty))
    broken = tmp_path / 'broken.zip'
    broken.write_bytes(b'PK\x03\x04 not really')
    with pytest.raises(InputError, match='broken.zip: not a readable zip'):
        read_upload(str(broken))
    with pytest.raises(InputError, match='no file'):
        read_upload(None)


# --------------------------------------------------------------------------
# classification, strip, notes, HTML
# --------------------------------------------------------------------------
def test_classify_equals_predict_scores(tiny_models, tmp_path):
    model = tiny_models['tiny']
    video = write_video(tmp_path / 'clip.mp4')
    result = classify(model, str(video), 'clip.mp4', 'video',
                      list(VIDEO_CLASSES))
    scores, views = predict_scores(model, str(video))
    order = np.argsort(-scores, kind='stable')
    assert [p[0] for p in result.predictions] == order.tolist()
    assert [p[2] for p in result.predictions] == scores[order].tolist()
    assert [p[1] for p in result.predictions] == \
        [VIDEO_CLASSES[i] for i in order]
    assert result.views == views == 1 and result.probabilities
    assert result.notes == []  # 16 frames >= the 8 of one clip
    assert result.seconds >= result.model_seconds > 0

    # the strip: the 8 sampled 64x64 frames, each enlarged to 112 (nearest)
    packed = prepare_inputs(model, str(video))
    clip = packed['inputs'][0].permute(1, 2, 3, 0).numpy()  # T, H, W, C
    assert clip.shape == (8, 64, 64, 3)
    assert result.strip.shape == (112, 8 * 116 - 4, 3)
    for t in (0, 7):
        tile = result.strip[:, t * 116:t * 116 + 112]
        want = cv2.resize(clip[t], (112, 112),
                          interpolation=cv2.INTER_NEAREST)
        np.testing.assert_array_equal(tile, want)
    assert result.strip_note == '8 frames of 64x64 per view'

    html = result_html(result)
    top = result.predictions[0]
    assert f'data-rank="1" data-label="{top[1]}" data-index="{top[0]}" ' \
        f'data-score="{top[2]!r}"' in html
    assert f'>{top[2]:.4f}</td>' in html and 'data-status="ok"' in html


def test_short_video_and_image_notes(tiny_models, tmp_path):
    model = tiny_models['tiny']
    assert clip_span(model.cfg) == 8  # UniformSample, clip_len 8
    short = write_video(tmp_path / 'short.mp4', num_frames=3)
    result = classify(model, str(short), 'short.mp4', 'video')
    assert result.notes == [
        'the input has 3 frames, fewer than the 8 one clip covers: the '
        'sampler repeats frames, so the prediction is less reliable'
    ]
    # still the scores of the API (the note does not change them)
    scores, _ = predict_scores(model, str(short))
    assert result.predictions[0][2] == float(scores.max())
    image = classify(model, str(DATA / 'test.jpg'), 'test.jpg', 'image')
    assert image.notes == ['one frame: the clip repeats it 8 times, so the '
                           'model sees no motion']
    frames, name, kind = read_upload([str(f) for f in FRAMES])
    result = classify(model, frames, name, kind)
    assert result.notes == [] and result.views == 1
    scores, _ = predict_scores(model, frames)
    assert result.predictions[0][2] == float(scores.max())


def test_multiview_strip(tiny_models, tmp_path):
    model = tiny_models['multiview']
    video = write_video(tmp_path / 'clip.mp4', num_frames=20)
    result = classify(model, str(video), 'clip.mp4', 'video')
    assert result.views == 6
    # 4 of the 6 views shown (rows), 8 frames each, 64x64 -> 112x112
    assert result.strip.shape == (4 * 116 - 4, 8 * 116 - 4, 3)
    assert result.strip_note == ('8 frames of 64x64 per view; one row per '
                                 'view (4 of 6 shown)')
    packed = prepare_inputs(model, str(video))
    strip, _ = frame_strip(model, packed, tile=64)  # no scaling
    views = packed['inputs'].permute(0, 2, 3, 4, 1).numpy()
    assert views.shape == (6, 8, 64, 64, 3)
    np.testing.assert_array_equal(strip[68:132, 136:200], views[1, 2])
    assert not np.array_equal(views[0, 2], views[1, 2])  # crops differ


def test_image_model_samples_and_strip(tmp_path):
    from uniformer_mm.webui.core import sample_inputs
    model = init_model(REPO / 'tests' / 'configs' /
                       'uniformer_tiny_imagefolder.py')
    samples = sample_inputs(model, tmp_path)
    assert list(samples) == ['demo image: circle', 'demo image: cross',
                             'demo image: square', 'demo image: triangle']
    path = samples['demo image: square']
    source, name, kind = read_upload(path)
    assert (name, kind) == ('0000.png', 'image')
    result = classify(model, source, name, kind)
    scores, views = predict_scores(model, source)
    assert result.predictions[0][2] == float(scores.max()) and views == 1
    assert result.strip_note == 'the 64x64 image' and result.notes == []
    # LoadImageFromFile gives BGR, the preprocessor swaps it (to_rgb): the
    # strip shows RGB, i.e. the image as it is on disk
    rgb = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
    resized = cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_LINEAR)
    want = cv2.resize(resized, (112, 112), interpolation=cv2.INTER_NEAREST)
    assert np.abs(result.strip.astype(int) - want).max() <= 1


def test_error_lines(tiny_models, tmp_path):
    model = tiny_models['tiny']
    corrupt = tmp_path / 'upload_dir' / 'corrupt.mp4'
    corrupt.parent.mkdir()
    corrupt.write_bytes(write_video(tmp_path / 'good.mp4').read_bytes()[:1500])
    with pytest.raises(Exception) as info:
        classify(model, str(corrupt), 'corrupt.mp4', 'video')
    line = describe_error('corrupt.mp4', info.value, [str(corrupt)])
    assert line.startswith('corrupt.mp4: cannot be read as a video (')
    assert line.endswith('Upload a video (mp4, avi, mkv, webm, ...), an '
                         'image, several images or a .zip of frames.')
    assert str(corrupt.parent) not in line and '\n' not in line
    page = error_html('corrupt.mp4', line)
    assert 'data-status="error"' in page and 'corrupt.mp4: cannot' in page


def test_session_events(tiny_models, tmp_path):
    """The page's event handlers (without the browser): results, errors as
    one line on the page, a model that fails to load, samples."""
    from uniformer_mm.webui.app import Session
    from uniformer_mm.webui.core import ModelEntry
    tiny = str(tiny_models['dir'] / 'tiny.py')
    session = Session([
        ModelEntry('tiny', config=tiny, checkpoint='none'),
        ModelEntry('broken', config=str(tmp_path / 'missing.py'),
                   checkpoint='none')
    ])
    try:
        good = write_video(tmp_path / 'good.mp4')
        html, strip, note = session.on_upload(str(good), 'tiny')
        assert 'data-status="ok"' in html and 'data-input="good.mp4"' in html
        assert strip.shape == (112, 8 * 116 - 4, 3)
        assert note == ('Frames the test pipeline sampled: 8 frames of 64x64 '
                        'per view.')
        # random weights; the names come from the config (the demo data
        # set's classes), as tools/infer.py shows them
        assert 'move_left' in html and 'class 0' not in html
        corrupt = tmp_path / 'corrupt.mp4'
        corrupt.write_bytes(b'\x00' * 100)
        html, strip, note = session.on_upload([str(corrupt)], 'tiny')
        assert 'data-status="error"' in html and strip is None
        assert '&#9888; corrupt.mp4: cannot be read as a video' in html
        html, _, _ = session.on_sample('demo video: move_down', 'broken')
        assert 'data-status="error"' in html and 'missing.py' in html
        assert session.label is None  # nothing half-loaded
        html, _, _ = session.on_sample('demo video: move_down', 'tiny')
        assert 'data-input="move_down_0000.mp4"' in html
        assert 'data-status="ok"' in html
        html, _, _ = session.on_sample('no such sample', 'tiny')
        assert 'not a sample of this model' in html
        assert session.model_markdown().startswith(
            f'**Model**: config `{tiny}`, checkpoint `none`')
    finally:
        session.close()
    assert not os.path.exists(session.cache_dir)


# --------------------------------------------------------------------------
# model list and command line
# --------------------------------------------------------------------------
def test_find_work_dir_models(tmp_path):
    root = tmp_path / 'work_dirs'
    run = root / 'demo_video'
    run.mkdir(parents=True)
    for i, name in enumerate(['uniformer_demo_video.py', 'epoch_1.pth',
                              'best_acc_top1_epoch_1.pth', 'epoch_2.pth']):
        (run / name).write_text('x')
        os.utime(run / name, (1000 + i, 1000 + i))
    (run / 'last_checkpoint').write_text(str(tmp_path / 'elsewhere' /
                                             'epoch_2.pth'))
    (root / 'no_config').mkdir()
    (root / 'no_config' / 'epoch_1.pth').write_text('x')
    (root / 'no_ckpt').mkdir()
    (root / 'no_ckpt' / 'cfg.py').write_text('x')
    entries = find_work_dir_models([root, tmp_path / 'missing'])
    assert [e.label for e in entries] == [
        'work_dirs/demo_video/best_acc_top1_epoch_1.pth',
        'work_dirs/demo_video/epoch_2.pth'
    ]
    assert {e.config for e in entries} == {
        str(run / 'uniformer_demo_video.py')}
    assert find_work_dir_models([tmp_path / 'missing']) == []


def test_cli_one_line_errors(tmp_path, capsys):
    tool = load_webui_tool()

    def error_of(argv):
        with pytest.raises(SystemExit) as info:
            tool.main(argv)
        message = str(info.value.code)
        assert message.startswith('webui.py: error: ')
        assert '\n' not in message
        return message

    assert 'no checkpoint found in ' + str(tmp_path) in error_of(
        ['--work-dirs', str(tmp_path)])
    assert 'CONFIG needs a CHECKPOINT' in error_of([str(DEMO_CFG)])
    assert "checkpoint 'missing.pth' does not exist" in error_of(
        [str(DEMO_CFG), 'missing.pth'])
    assert 'not both' in error_of([str(DEMO_CFG), 'none', '--model', 'x'])
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert f'cannot listen on 127.0.0.1:{port} (Address already in ' \
            'use)' in error_of([str(DEMO_CFG), 'none', '--port', str(port)])
    if not hasattr(uniformer_mm, 'get_model'):
        assert 'name lookup is not available' in error_of(
            ['--model', 'uniformer_small_k400'])


# --------------------------------------------------------------------------
# the page in a real browser
# --------------------------------------------------------------------------
def _browser_missing():
    """Why the browser test cannot run here, or None."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.isfile(p)]
    if missing:
        return (f'{" and ".join(missing)} not found (apt-get install '
                'chromium chromium-driver)')
    for module, how in (('gradio', 'pip install -r requirements/webui.txt'),
                        ('selenium', 'pip install selenium')):
        if importlib.util.find_spec(module) is None:
            return f'{module} is not installed ({how})'
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _start_chromium(user_dir):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ('--headless', '--no-sandbox', '--disable-gpu',
                '--disable-quic', '--no-first-run',
                '--disable-background-networking',
                '--disable-component-update', '--disable-sync',
                f'--user-data-dir={user_dir}', '--window-size=1280,860'):
        options.add_argument(arg)
    options.set_capability('goog:loggingPrefs', {'performance': 'ALL'})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def _wait(condition, timeout, what, server=None, log=None):
    end = time.time() + timeout
    while time.time() < end:
        value = condition()
        if value:
            return value
        if server is not None and server.poll() is not None:
            pytest.fail(f'the web page process exited ({server.returncode}) '
                        f'while waiting for {what}:\n'
                        f'{log.read_text()[-3000:]}')
        time.sleep(0.25)
    tail = log.read_text()[-3000:] if log is not None else ''
    pytest.fail(f'timed out after {timeout} s waiting for {what}\n{tail}')


class Page:
    """The page in the browser, read and driven the way a user would."""

    def __init__(self, driver, server, log):
        self.driver, self.server, self.log = driver, server, log

    def css(self, selector):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def wait(self, condition, what, timeout=120):
        return _wait(condition, timeout, what, self.server, self.log)

    def _mark_output(self):
        """Mark the shown result, to wait for the next one."""
        self.driver.execute_script(
            "const e = document.querySelector('#umm-output');"
            "if (e) e.setAttribute('data-old', '1');")

    def _new_result(self, name):
        return self.wait(
            lambda: self.css(f'#umm-output[data-input="{name}"]'
                             ':not([data-old])'),
            f'the result for {name}')[0]

    def upload(self, path):
        """Upload a file on the first tab (after clearing the last one)
        and return the result element."""
        self._mark_output()
        for button in self.css('#umm-upload button[aria-label="Clear"]'):
            button.click()
        field = self.wait(lambda: self.css('#umm-upload input[type=file]'),
                          'the upload field')[0]
        field.send_keys(str(path))
        return self._new_result(Path(path).name)

    def run_sample(self, expected_name):
        for tab in self.css('button[role="tab"]'):
            if tab.text.strip() == 'Sample':
                tab.click()
        self._mark_output()
        button = self.wait(lambda: [b for b in self.css('#umm-run-sample')
                                    if b.is_displayed()],
                           'the sample button')[0]
        button.click()
        return self._new_result(expected_name)

    def predictions(self, result):
        """``[(label, score, shown score text)]`` of the result's rows."""
        from selenium.webdriver.common.by import By
        rows = result.find_elements(By.CSS_SELECTOR, 'tr.umm-pred')
        return [(r.get_attribute('data-label'),
                 float(r.get_attribute('data-score')),
                 r.find_element(By.CSS_SELECTOR, '.umm-score').text)
                for r in rows]

    def strip_size(self):
        """Natural size of the frame strip image once it has loaded."""
        def loaded():
            return self.driver.execute_script(
                "const i = document.querySelector('#umm-strip img');"
                'return i && i.complete && i.naturalWidth ? '
                '[i.naturalWidth, i.naturalHeight] : null;')
        return tuple(self.wait(loaded, 'the frame strip', 60))

    def requested_urls(self):
        urls = []
        for entry in self.driver.get_log('performance'):
            message = json.loads(entry['message'])['message']
            if message['method'] in ('Network.requestWillBeSent',
                                     'Network.webSocketCreated'):
                params = message['params']
                urls.append(params.get('request', {}).get('url') or
                            params.get('url'))
        return urls


@pytest.fixture(scope='module')
def demo_checkpoint(tmp_path_factory):
    """The demo config shrunk (tiny model, 8 training videos of 8 frames)
    trained for 1 epoch of 2 iterations, in ``<root>/work_dirs/demo``."""
    root = tmp_path_factory.mktemp('webui_demo')
    work_dir = root / 'work_dirs' / 'demo'
    data = root / 'data'
    opts = [
        'model.backbone.arch.embed_dims=[16,32,64,64]',
        'model.backbone.arch.depths=[1,1,1,1]',
        'model.backbone.arch.head_dim=16', 'model.cls_head.in_channels=64',
        'train_cfg.max_epochs=1', 'train_dataloader.batch_size=4',
        'default_hooks.checkpoint.save_best=None'
    ]
    for split in ('train', 'val', 'test'):
        opts += [
            f'{split}_dataloader.dataset.data_root={data}',
            f'{split}_dataloader.dataset.demo_cfg.num_train_per_class=2',
            f'{split}_dataloader.dataset.demo_cfg.num_val_per_class=1',
            f'{split}_dataloader.dataset.demo_cfg.num_frames=8',
            f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False',
        ]
    spec = importlib.util.spec_from_file_location('_tool_train_webui',
                                                  REPO / 'tools' / 'train.py')
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    train.main([str(DEMO_CFG), '--work-dir', str(work_dir), '--cfg-options']
               + opts)
    return dict(root=root, config='work_dirs/demo/uniformer_demo_video.py',
                checkpoint='work_dirs/demo/epoch_1.pth')


@pytest.mark.slow
@pytest.mark.skipif(_browser_missing() is not None,
                    reason=f'browser test: {_browser_missing()}')
def test_webui_in_browser(demo_checkpoint, tmp_path):
    # relative paths, as a user would type them in a checkout
    root = demo_checkpoint['root']
    config, checkpoint = demo_checkpoint['config'], demo_checkpoint[
        'checkpoint']
    if os.environ.get('UMM_WEBUI_MODEL'):  # e.g. the demo's, for the docs
        root = Path.cwd()
        config, checkpoint = os.environ['UMM_WEBUI_MODEL'].split()
    good = write_video(tmp_path / 'my_clip.mp4', label=2)
    short = write_video(tmp_path / 'three_frames.mp4', label=2, num_frames=3)
    corrupt = tmp_path / 'corrupt.mp4'
    corrupt.write_bytes(good.read_bytes()[:len(good.read_bytes()) // 2])

    env = dict(os.environ, OMP_NUM_THREADS='1',
               GRADIO_TEMP_DIR=str(tmp_path / 'gradio'))
    port = _free_port()
    log = tmp_path / 'server.log'
    with open(log, 'w') as out:
        server = subprocess.Popen(
            [sys.executable, str(REPO / 'tools' / 'webui.py'), config,
             checkpoint, '--host', '127.0.0.1', '--port', str(port)],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    driver = None
    try:
        # tools/infer.py on the same file and checkpoint (meanwhile)
        infer_json = tmp_path / 'infer.json'
        infer = subprocess.run(
            [sys.executable, str(REPO / 'tools' / 'infer.py'), config,
             checkpoint, str(good), '--out', str(infer_json)],
            cwd=root, env=env, capture_output=True, text=True, timeout=300)
        assert infer.returncode == 0, infer.stderr[-2000:]
        expected = json.loads(infer_json.read_text())[0]
        url = f'http://127.0.0.1:{port}/'

        def page_up():
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        _wait(page_up, 240, 'the page to answer', server, log)
        driver = _start_chromium(tempfile.mkdtemp(dir=tmp_path))
        driver.get(url)
        page = Page(driver, server, log)
        page.wait(lambda: page.css('#umm-upload input[type=file]'),
                  'the page to render')
        assert driver.title == 'uniformer-mm: try a model'

        # 1. a real mp4: the page's top-k is tools/infer.py's
        result = page.upload(good)
        assert result.get_attribute('data-status') == 'ok'
        rows = page.predictions(result)
        want = [(p['name'], p['score']) for p in expected['predictions']]
        # the demo's checkpoints name their classes (DemoVideoDataset)
        assert sorted(n for n, _ in want) == sorted(VIDEO_CLASSES)
        assert [label for label, _, _ in rows] == [n for n, _ in want]
        for (_, score, text), (_, infer_score) in zip(rows, want):
            assert score == pytest.approx(infer_score, abs=1e-6)
            assert text == f'{infer_score:.4f}'  # as infer.py prints it
        top_label, top_score, _ = rows[0]
        print(f'\npage top-1: {top_label} {top_score:.6f}; tools/infer.py: '
              f'{want[0][0]} {want[0][1]:.6f}')
        assert int(result.get_attribute('data-views')) == \
            expected['views'] == 1
        assert float(result.get_attribute('data-seconds')) > 0
        assert f'{top_label}' in result.text and '1 view' in result.text
        assert page.strip_size() == (8 * 116 - 4, 112)  # 8 frames of 64x64
        if os.environ.get('UMM_WEBUI_SCREENSHOT'):
            time.sleep(1)  # let the bars and the image settle
            assert driver.save_screenshot(os.environ['UMM_WEBUI_SCREENSHOT'])

        # 2. a corrupt file: a one-line message, the server goes on
        result = page.upload(corrupt)
        assert result.get_attribute('data-status') == 'error'
        message = result.text
        assert message.startswith('⚠ corrupt.mp4: cannot be read as a '
                                  'video'), message
        assert 'Upload a video' in message and str(tmp_path) not in message
        assert server.poll() is None

        # 3. the good file again: a result again, the same scores
        result = page.upload(good)
        assert result.get_attribute('data-status') == 'ok'
        assert [(label, score) for label, score, _ in
                page.predictions(result)] == [(label, score) for label, score,
                                              _ in rows]

        # 4. shorter than a clip: the result, and a note saying so
        result = page.upload(short)
        assert result.get_attribute('data-status') == 'ok'
        assert 'the input has 3 frames, fewer than the 8 one clip covers' \
            in result.text

        # 5. a bundled sample (the demo's validation video of move_left)
        result = page.run_sample('move_left_0000.mp4')
        assert result.get_attribute('data-status') == 'ok'
        assert len(page.predictions(result)) == 4

        # nothing was requested from anywhere but the page's server
        hosts = {urlsplit(u).netloc for u in page.requested_urls()
                 if urlsplit(u).scheme in ('http', 'https', 'ws', 'wss')}
        assert hosts == {f'127.0.0.1:{port}'}, hosts
        assert server.poll() is None
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

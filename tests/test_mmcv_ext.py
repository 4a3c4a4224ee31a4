"""The plain-PyTorch ``mmcv._ext`` stand-in (``uniformer_mm.ops``) against
the formulas of mmcv's CPU kernels, restated here as naive loops.

* NMS: sort by score (descending), keep a box unless its IoU with a kept,
  higher-scored box is ``> iou_threshold``; widths ``x2 - x1 + offset``.
* RoIAlign: RoI ``(b, x1, y1, x2, y2) * scale - (0.5 if aligned)``; legacy
  mode clamps the RoI size to >= 1; bins of ``size / pooled``; a grid of
  ``sampling_ratio`` (or ``ceil(roi_size / pooled)``) samples per bin axis
  at ``start + p * bin + (i + .5) * bin / grid``; a sample outside
  ``[-1, H] x [-1, W]`` reads 0, otherwise it is clamped to ``>= 0``, and a
  coordinate at or past ``size - 1`` reads the last pixel; bilinear
  interpolation; average over the grid (divided by ``max(grid, 1)``) or
  maximum (initial value -10000).

The reference loops are differentiable (built from tensor indexing), so the
backward passes are checked against autograd through them. Sizes are tiny:
the loops are slow on purpose (one scalar at a time).
"""
import math

import pytest
import torch

import uniformer_mm  # noqa: F401  (installs the stand-in where needed)
from uniformer_mm.ops import mmcv_ext


# ------------------------------------------------------------------ NMS
def nms_reference(boxes, scores, thr, offset):
    # same tie order as the stand-in (torch.sort), for exact comparison
    order = torch.sort(scores, descending=True)[1].tolist()
    b = boxes.tolist()
    keep, dropped = [], set()
    for pos, i in enumerate(order):
        if i in dropped:
            continue
        keep.append(i)
        for j in order[pos + 1:]:
            if j in dropped:
                continue
            w = max(0., min(b[i][2], b[j][2]) - max(b[i][0], b[j][0]) +
                    offset)
            h = max(0., min(b[i][3], b[j][3]) - max(b[i][1], b[j][1]) +
                    offset)
            inter = w * h
            area_i = (b[i][2] - b[i][0] + offset) * (b[i][3] - b[i][1] +
                                                     offset)
            area_j = (b[j][2] - b[j][0] + offset) * (b[j][3] - b[j][1] +
                                                     offset)
            if inter / (area_i + area_j - inter) > thr:
                dropped.add(j)
    return keep


def random_boxes(n, generator, size=64.):
    xy = torch.rand(n, 2, generator=generator) * size
    wh = torch.rand(n, 2, generator=generator) * size / 3 + 1
    return torch.cat([xy, xy + wh], 1)


@pytest.mark.parametrize('offset', [0, 1])
@pytest.mark.parametrize('thr', [0.3, 0.7])
def test_nms_matches_reference(offset, thr):
    g = torch.Generator().manual_seed(3 + offset)
    boxes = random_boxes(200, g)
    scores = torch.rand(200, generator=g)
    keep = mmcv_ext.nms(boxes, scores, iou_threshold=thr, offset=offset)
    assert keep.dtype == torch.long
    assert keep.tolist() == nms_reference(boxes, scores, thr, offset)
    # invariants: kept boxes pairwise below the threshold, scores descending
    kept = boxes[keep]
    from mmdet.structures.bbox import bbox_overlaps
    iou = bbox_overlaps(kept, kept) if offset == 0 else None
    if iou is not None:
        iou.fill_diagonal_(0)
        assert float(iou.max()) <= thr
    assert torch.all(scores[keep][1:] <= scores[keep][:-1])


def test_nms_through_mmcv_ops_and_batched():
    """mmcv's own wrappers (``nms``, ``batched_nms``) on the stand-in."""
    from mmcv.ops import batched_nms, nms
    g = torch.Generator().manual_seed(0)
    boxes = random_boxes(60, g)
    scores = torch.rand(60, generator=g)
    dets, keep = nms(boxes, scores, 0.5)
    assert keep.tolist() == nms_reference(boxes, scores, 0.5, 0)
    assert torch.equal(dets[:, 4], scores[keep])
    # batched: the same as NMS per class, merged by score
    idxs = torch.randint(0, 3, (60, ), generator=g)
    _, keep_b = batched_nms(boxes, scores, idxs, dict(iou_threshold=0.5))
    per_class = []
    for c in range(3):
        sel = torch.nonzero(idxs == c).flatten()
        per_class += sel[nms_reference(boxes[sel], scores[sel], 0.5,
                                       0)].tolist()
    assert sorted(keep_b.tolist()) == sorted(per_class)
    assert mmcv_ext.nms(boxes[:0], scores[:0], 0.5, 0).numel() == 0


# ------------------------------------------------------------- RoIAlign
def _bilinear(feat, y, x, H, W):
    """One sample of one channel map, mmcv's rules; returns a 0-d tensor."""
    if y < -1.0 or y > H or x < -1.0 or x > W:
        return feat.new_zeros(())
    y, x = max(y, 0.), max(x, 0.)
    y_low, x_low = int(y), int(x)
    if y_low >= H - 1:
        y_low = y_high = H - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= W - 1:
        x_low = x_high = W - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    hy, hx = 1. - ly, 1. - lx
    return (hy * hx * feat[y_low, x_low] + hy * lx * feat[y_low, x_high] +
            ly * hx * feat[y_high, x_low] + ly * lx * feat[y_high, x_high])


def roi_align_reference(feat, rois, out_size, scale, ratio, mode, aligned):
    B, C, H, W = feat.shape
    PH, PW = out_size
    out = []
    for roi in rois.tolist():
        b = int(roi[0])
        off = 0.5 if aligned else 0.
        x1, y1, x2, y2 = (v * scale - off for v in roi[1:])
        rw, rh = x2 - x1, y2 - y1
        if not aligned:
            rw, rh = max(rw, 1.), max(rh, 1.)
        bh, bw = rh / PH, rw / PW
        gh = ratio if ratio > 0 else math.ceil(rh / PH)
        gw = ratio if ratio > 0 else math.ceil(rw / PW)
        chans = []
        for c in range(C):
            bins = []
            for p in range(PH):
                row = []
                for q in range(PW):
                    vals = [_bilinear(feat[b, c],
                                      y1 + p * bh + (i + .5) * bh / gh,
                                      x1 + q * bw + (j + .5) * bw / gw, H, W)
                            for i in range(gh) for j in range(gw)]
                    if mode == 'avg':
                        row.append(sum(vals) / max(gh * gw, 1) if vals
                                   else feat.new_zeros(()))
                    else:
                        best = feat.new_tensor(-10000.)
                        for v in vals:
                            if v > best:
                                best = v
                        row.append(best)
                bins.append(torch.stack(row))
            chans.append(torch.stack(bins))
        out.append(torch.stack(chans))
    return torch.stack(out)


def make_rois(generator):
    """RoIs of several sampling grids, partly outside the map, on two
    images (feature map 9x11 at scale 1/4)."""
    return torch.tensor([
        [0, 2., 3., 30., 20.],
        [1, -6., -5., 12., 9.],    # starts outside (top-left)
        [0, 20., 14., 48., 40.],   # ends outside (bottom-right)
        [1, 8., 8., 9., 9.5],      # tiny: a grid of 1 (or legacy clamp)
        [0, 0., 0., 44., 36.],     # the whole map
    ])


@pytest.mark.parametrize('mode,aligned,ratio', [
    ('avg', True, 0), ('avg', False, 0), ('avg', True, 2),
    ('max', True, 0), ('max', False, 2)])
def test_roi_align_matches_reference(mode, aligned, ratio):
    from mmcv.ops import roi_align
    g = torch.Generator().manual_seed(1)
    feat = torch.randn(2, 3, 9, 11, generator=g, dtype=torch.float64)
    rois = make_rois(g).double()
    feat_a = feat.clone().requires_grad_()
    out = roi_align(feat_a, rois, (3, 2), 0.25, ratio, mode, aligned)
    feat_r = feat.clone().requires_grad_()
    ref = roi_align_reference(feat_r, rois, (3, 2), 0.25, ratio, mode,
                              aligned)
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-10)
    grad = torch.randn(out.shape, generator=g, dtype=torch.float64)
    out.backward(grad)
    ref.backward(grad)
    torch.testing.assert_close(feat_a.grad, feat_r.grad, rtol=1e-10,
                               atol=1e-10)


def test_roi_align_float32_module_and_adjoint():
    """mmcv's ``RoIAlign`` module in float32 (as Mask R-CNN runs it): the
    same as the float64 result to float precision, and its backward is the
    adjoint of the forward (<A x, g> = <x, A^T g>)."""
    from mmcv.ops import RoIAlign
    g = torch.Generator().manual_seed(2)
    feat = torch.randn(2, 4, 9, 11, generator=g)
    rois = make_rois(g)
    layer = RoIAlign((7, 7), spatial_scale=0.25, sampling_ratio=0)
    x = feat.clone().requires_grad_()
    out = layer(x, rois)
    assert out.shape == (5, 4, 7, 7)
    ref = layer(feat.double(), rois.double())
    torch.testing.assert_close(out.double(), ref, rtol=1e-5, atol=1e-5)
    gout = torch.randn(out.shape, generator=g)
    (out * gout).sum().backward()
    lhs = float((out.detach().double() * gout.double()).sum())
    rhs = float((feat.double() * x.grad.double()).sum())
    assert abs(lhs - rhs) <= 1e-4 * max(1., abs(lhs))
    # empty input: nothing to pool, no error
    assert layer(feat, rois[:0]).shape == (0, 4, 7, 7)


def test_roi_align_rejects_inverted_roi():
    from mmcv.ops import roi_align
    with pytest.raises(ValueError, match='x2 < x1'):
        roi_align(torch.zeros(1, 1, 4, 4), torch.tensor([[0, 3., 0, 1, 2]]),
                  (2, 2), 1., 0, 'avg', True)


def test_other_operators_raise_one_line():
    """Operators that are not provided import but raise when called."""
    import mmcv
    if not isinstance(mmcv._ext, mmcv_ext.MMCVExtStandIn):
        pytest.skip('the compiled mmcv._ext is installed: no stand-in')
    from mmcv.ops import sigmoid_focal_loss
    with pytest.raises(RuntimeError) as info:
        sigmoid_focal_loss(torch.zeros(2, 3), torch.zeros(2).long())
    message = str(info.value)
    assert '\n' not in message
    assert 'sigmoid_focal_loss_forward' in message and 'full mmcv' in message
    assert 'nms' in uniformer_mm.compat.APPLIED['mmcv_ext']

"""A stand-in for ``mmcv._ext`` (the compiled mmcv operators) in plain PyTorch.

mmcv's Python wrappers (``mmcv.ops.nms``, ``mmcv.ops.RoIAlign``, ...) call
functions of the compiled module ``mmcv._ext``, which mmcv-lite does not
ship. :class:`MMCVExtStandIn` is a module object with

* ``nms(boxes, scores, iou_threshold, offset)`` -- greedy NMS exactly as
  mmcv's CPU kernel (boxes sorted by descending score with ``torch.sort``,
  a box is dropped when its IoU with a kept, higher-scored box is
  ``> iou_threshold``; widths and heights are ``x2 - x1 + offset``);
* ``roi_align_forward`` / ``roi_align_backward`` -- RoIAlign (Mask R-CNN)
  as mmcv's CPU kernel: ``aligned`` half-pixel offset, adaptive
  ``ceil(roi_size / output_size)`` sampling grid when
  ``sampling_ratio <= 0``, mmcv's bilinear border rules, average and max
  pooling, with the gradient of both;

and every other name of mmcv's operator list resolving to a function that
raises a one-line error naming the operator (so that ``import mmcv.ops``
works, and only calling an operator that is not provided fails).

That covers what RetinaNet, Faster/Mask R-CNN, Cascade Mask R-CNN (mmdet),
Semantic FPN / UperNet (mmseg) and top-down heatmap pose models (mmpose)
call on CPU: mmdet's focal loss and mask pasting have pure-PyTorch CPU paths
of their own, the others use no compiled operator.

RoIAlign is computed as a sparse matrix product: each output bin is a
weighted sum of at most ``4 * grid_h * grid_w`` input pixels, so the bins of
all RoIs form one sparse ``(R*PH*PW) x (B*H*W)`` matrix ``S`` and the
forward pass is ``S @ features`` (channels last), the backward pass
``S^T @ grad``. RoIs are grouped by their sampling grid so that nothing is
padded.
"""
import importlib.machinery
import types

import numpy as np
import torch

#: Operators provided in plain PyTorch (the others raise when called).
PROVIDED = ('nms', 'roi_align_forward', 'roi_align_backward')


# ---------------------------------------------------------------------------
# NMS
# ---------------------------------------------------------------------------
def nms(boxes, scores, iou_threshold, offset=0):
    """Indices of the boxes kept by greedy NMS, highest score first.

    Args:
        boxes (Tensor): ``(N, 4)`` boxes ``x1, y1, x2, y2``.
        scores (Tensor): ``(N, )`` scores.
        iou_threshold (float): A box is suppressed by a kept one when their
            IoU is strictly greater than this.
        offset (int): 0 or 1, added to widths and heights (``x2 - x1 +
            offset``).

    Returns:
        Tensor: ``int64`` indices into ``boxes``, on the device of
        ``boxes``.
    """
    device = boxes.device
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.long, device=device)
    boxes = boxes.detach().to('cpu', torch.float32)
    order_t = torch.sort(scores.detach().cpu(), 0, descending=True)[1]
    # boxes in score order; float32 arithmetic in the kernel's order
    b = boxes[order_t].numpy()
    x1, y1, x2, y2 = (np.ascontiguousarray(b[:, k]) for k in range(4))
    off = np.float32(offset)
    areas = (x2 - x1 + off) * (y2 - y1 + off)
    thr = np.float32(iou_threshold)
    n = b.shape[0]
    keep = np.ones(n, dtype=bool)
    zero = np.float32(0)
    for i in range(n):
        if not keep[i]:
            continue
        rest = np.nonzero(keep[i + 1:])[0] + (i + 1)
        if rest.size == 0:
            break
        w = np.maximum(zero,
                       np.minimum(x2[i], x2[rest]) -
                       np.maximum(x1[i], x1[rest]) + off)
        h = np.maximum(zero,
                       np.minimum(y2[i], y2[rest]) -
                       np.maximum(y1[i], y1[rest]) + off)
        inter = w * h
        ovr = inter / (areas[i] + areas[rest] - inter)
        keep[rest[ovr > thr]] = False
    kept = order_t[torch.from_numpy(keep)]
    return kept.to(device)


# ---------------------------------------------------------------------------
# RoIAlign
# ---------------------------------------------------------------------------
def _axis(coord, size):
    """Bilinear corner indices ``(..., 2)`` and weights ``(..., 2)`` of
    sample coordinates along one axis, with mmcv's border rules: a sample
    outside ``[-1, size]`` contributes nothing, one in ``[-1, 0]`` is read at
    0, one at or beyond ``size - 1`` at ``size - 1``."""
    valid = (coord >= -1.0) & (coord <= size)
    c = coord.clamp(min=0)
    low = c.floor().long()
    at_end = low >= size - 1
    low = torch.where(at_end, torch.full_like(low, size - 1), low)
    high = torch.where(at_end, low, low + 1)
    c = torch.where(at_end, low.to(c.dtype), c)
    frac = c - low.to(c.dtype)
    weights = torch.stack([1. - frac, frac], -1) * valid.unsqueeze(-1)
    return torch.stack([low, high], -1), weights


def _roi_grids(rois, pooled_h, pooled_w, spatial_scale, sampling_ratio,
               aligned):
    """Per RoI: batch index, start (y, x), bin size (h, w) and sampling
    grid (h, w), computed in the input dtype as mmcv's kernel does."""
    offset = 0.5 if aligned else 0.0
    batch = rois[:, 0].long()
    x1 = rois[:, 1] * spatial_scale - offset
    y1 = rois[:, 2] * spatial_scale - offset
    x2 = rois[:, 3] * spatial_scale - offset
    y2 = rois[:, 4] * spatial_scale - offset
    roi_w, roi_h = x2 - x1, y2 - y1
    if aligned:
        if bool(((roi_w < 0) | (roi_h < 0)).any()):
            raise ValueError('RoIAlign (aligned=True) got a RoI with x2 < x1 '
                             'or y2 < y1; RoIs must be (batch, x1, y1, x2, '
                             'y2) with x1 <= x2 and y1 <= y2')
    else:  # legacy mode: at least one pixel
        roi_w, roi_h = roi_w.clamp(min=1.), roi_h.clamp(min=1.)
    bin_h, bin_w = roi_h / pooled_h, roi_w / pooled_w
    if sampling_ratio > 0:
        grid_h = torch.full_like(batch, int(sampling_ratio))
        grid_w = grid_h.clone()
    else:
        grid_h = torch.ceil(roi_h / pooled_h).long()
        grid_w = torch.ceil(roi_w / pooled_w).long()
    return batch, y1, x1, bin_h, bin_w, grid_h, grid_w


def _sample_coords(start, bin_size, grid, pooled):
    """``(n, pooled, grid)`` sample coordinates along one axis:
    ``start + p * bin + (i + .5) * bin / grid`` (the kernel's order)."""
    dtype = start.dtype
    p = torch.arange(pooled, dtype=dtype, device=start.device)
    i = torch.arange(grid, dtype=dtype, device=start.device)
    base = start[:, None, None] + p[None, :, None] * bin_size[:, None, None]
    step = (i[None, None, :] + .5) * bin_size[:, None, None]
    return base + step / grid


def _groups(grid_h, grid_w):
    """RoI indices grouped by their (grid_h, grid_w)."""
    if grid_h.numel() == 0:
        return []
    key = grid_h * (int(grid_w.max()) + 1) + grid_w
    out = []
    for k in torch.unique(key).tolist():
        idx = torch.nonzero(key == k).flatten()
        out.append((idx, int(grid_h[idx[0]]), int(grid_w[idx[0]])))
    return out


def _group_samples(geometry, idx, gh, gw, pooled_h, pooled_w, height, width):
    """Corner indices into a ``(B*H*W)`` flattened map and their bilinear
    weights for the RoIs ``idx`` (one sampling grid ``gh x gw``), shaped
    ``(n, PH, PW, gh, gw, 2, 2)``; also the sample coordinates
    ``(n, PH, gh)`` and ``(n, PW, gw)``."""
    batch, y1, x1, bin_h, bin_w = (t[idx] for t in geometry[:5])
    ys = _sample_coords(y1, bin_h, gh, pooled_h)  # (n, PH, gh)
    xs = _sample_coords(x1, bin_w, gw, pooled_w)  # (n, PW, gw)
    yi, wy = _axis(ys, height)  # (n, PH, gh, 2)
    xi, wx = _axis(xs, width)  # (n, PW, gw, 2)
    yi = yi[:, :, None, :, None, :, None]
    wy = wy[:, :, None, :, None, :, None]
    xi = xi[:, None, :, None, :, None, :]
    wx = wx[:, None, :, None, :, None, :]
    base = (batch * (height * width))[:, None, None, None, None, None, None]
    cols = base + yi * width + xi
    weights = wy * wx
    return cols, weights, ys, xs


def _avg_matrix(rois, pooled_h, pooled_w, spatial_scale, sampling_ratio,
                aligned, shape, dtype):
    """The sparse ``(R*PH*PW, B*H*W)`` matrix of average RoIAlign."""
    B, _, H, W = shape
    geometry = _roi_grids(rois.to(dtype), pooled_h, pooled_w, spatial_scale,
                          sampling_ratio, aligned)
    grid_h, grid_w = geometry[5:]
    rows_all, cols_all, vals_all = [], [], []
    bins = pooled_h * pooled_w
    for idx, gh, gw in _groups(grid_h, grid_w):
        if gh == 0 or gw == 0:
            continue  # empty grid: the bins are 0
        cols, weights, _, _ = _group_samples(geometry, idx, gh, gw,
                                             pooled_h, pooled_w, H, W)
        weights = weights / max(gh * gw, 1)
        rows = (idx[:, None, None] * bins + torch.arange(
            bins, device=rois.device).view(1, pooled_h, pooled_w))
        rows = rows[:, :, :, None, None, None, None].expand_as(cols)
        keep = weights.expand_as(cols) != 0
        rows_all.append(rows[keep])
        cols_all.append(cols.expand_as(rows)[keep])
        vals_all.append(weights.expand_as(cols)[keep])
    size = (rois.shape[0] * bins, B * H * W)
    if rows_all:
        indices = torch.stack([torch.cat(rows_all), torch.cat(cols_all)])
        values = torch.cat(vals_all)
    else:
        indices = torch.zeros(2, 0, dtype=torch.long, device=rois.device)
        values = torch.zeros(0, dtype=dtype, device=rois.device)
    return torch.sparse_coo_tensor(indices, values, size,
                                   check_invariants=False).coalesce()


def _channels_last_rows(x):
    """``(B, C, H, W)`` -> ``(B*H*W, C)``."""
    B, C, H, W = x.shape
    return x.permute(0, 2, 3, 1).reshape(B * H * W, C)


def roi_align_forward(input, rois, output, argmax_y, argmax_x,
                      aligned_height, aligned_width, spatial_scale,
                      sampling_ratio, pool_mode, aligned):
    """RoIAlign forward, writing into ``output`` (``(R, C, PH, PW)``) and,
    for max pooling (``pool_mode == 0``), the sample coordinates of each
    maximum into ``argmax_y`` / ``argmax_x`` (-1 where none).

    Same arguments as mmcv's ``ext_module.roi_align_forward``.
    """
    R = rois.shape[0]
    if R == 0:
        return
    C = input.shape[1]
    feats = _channels_last_rows(input.detach())
    if pool_mode == 1:  # average
        S = _avg_matrix(rois.detach(), aligned_height, aligned_width,
                        spatial_scale, sampling_ratio, aligned, input.shape,
                        input.dtype)
        out = torch.sparse.mm(S, feats)
        output.copy_(out.view(R, aligned_height, aligned_width,
                              C).permute(0, 3, 1, 2))
        return
    _max_forward(input, feats, rois.detach(), output, argmax_y, argmax_x,
                 aligned_height, aligned_width, spatial_scale, sampling_ratio,
                 aligned)


def _max_forward(input, feats, rois, output, argmax_y, argmax_x, pooled_h,
                 pooled_w, spatial_scale, sampling_ratio, aligned):
    B, C, H, W = input.shape
    geometry = _roi_grids(rois.to(input.dtype), pooled_h, pooled_w,
                          spatial_scale, sampling_ratio, aligned)
    grid_h, grid_w = geometry[5:]
    # the kernel's initial maximum; bins without samples keep it
    output.fill_(-10000.)
    argmax_y.fill_(-1.)
    argmax_x.fill_(-1.)
    for idx, gh, gw in _groups(grid_h, grid_w):
        if gh == 0 or gw == 0:
            continue
        cols, weights, ys, xs = _group_samples(geometry, idx, gh, gw,
                                               pooled_h, pooled_w, H, W)
        n = idx.numel()
        # one row per sample: (n, PH, PW, gh, gw) samples of 4 corners
        cols = cols.expand(n, pooled_h, pooled_w, gh, gw, 2, 2)
        weights = weights.expand_as(cols)
        rows = torch.arange(n * pooled_h * pooled_w * gh * gw,
                            device=rois.device)
        rows = rows.view(n, pooled_h, pooled_w, gh, gw, 1, 1).expand_as(cols)
        S = torch.sparse_coo_tensor(
            torch.stack([rows.reshape(-1), cols.reshape(-1)]),
            weights.reshape(-1), (rows.numel() // 4, B * H * W),
            check_invariants=False)
        vals = torch.sparse.mm(S, feats).view(n, pooled_h, pooled_w,
                                               gh * gw, C)
        best, arg = vals.max(dim=3)  # first maximum, as the kernel's '>'
        found = best > -10000.
        sy = ys[:, :, None, :, None].expand(n, pooled_h, pooled_w, gh, gw)
        sx = xs[:, None, :, None, :].expand(n, pooled_h, pooled_w, gh, gw)
        sy = torch.gather(sy.reshape(n, pooled_h, pooled_w, gh * gw, 1)
                          .expand(-1, -1, -1, -1, C), 3,
                          arg.unsqueeze(3)).squeeze(3)
        sx = torch.gather(sx.reshape(n, pooled_h, pooled_w, gh * gw, 1)
                          .expand(-1, -1, -1, -1, C), 3,
                          arg.unsqueeze(3)).squeeze(3)
        neg = torch.full_like(best, -10000.)
        minus = torch.full_like(best, -1.)
        output[idx] = torch.where(found, best, neg).permute(0, 3, 1, 2)
        argmax_y[idx] = torch.where(found, sy, minus).permute(0, 3, 1, 2)
        argmax_x[idx] = torch.where(found, sx, minus).permute(0, 3, 1, 2)


def roi_align_backward(grad_output, rois, argmax_y, argmax_x, grad_input,
                       aligned_height, aligned_width, spatial_scale,
                       sampling_ratio, pool_mode, aligned):
    """RoIAlign backward: adds the gradient with respect to the input
    feature map to ``grad_input`` (``(B, C, H, W)``).

    Same arguments as mmcv's ``ext_module.roi_align_backward``.
    """
    R = rois.shape[0]
    if R == 0:
        return
    B, C, H, W = grad_input.shape
    if pool_mode == 1:
        S = _avg_matrix(rois.detach(), aligned_height, aligned_width,
                        spatial_scale, sampling_ratio, aligned,
                        grad_input.shape, grad_output.dtype)
        g = grad_output.permute(0, 2, 3, 1).reshape(-1, C)
        grad = torch.sparse.mm(S.t(), g)  # (B*H*W, C)
        grad_input.add_(grad.view(B, H, W, C).permute(0, 3, 1, 2))
        return
    # max pooling: the bilinear gradient at the recorded sample
    batch = rois[:, 0].long()
    y, x = argmax_y, argmax_x
    yi, wy = _axis(y, H)
    xi, wx = _axis(x, W)
    ok = (y != -1.)
    g = grad_output * ok
    c = torch.arange(C, device=grad_input.device).view(1, C, 1, 1)
    plane = (batch.view(R, 1, 1, 1) * C + c) * (H * W)
    flat = grad_input.view(-1)
    for a in range(2):
        for b in range(2):
            index = plane + yi[..., a] * W + xi[..., b]
            flat.index_add_(0, index.reshape(-1),
                            (g * wy[..., a] * wx[..., b]).reshape(-1))


# ---------------------------------------------------------------------------
# the module object
# ---------------------------------------------------------------------------
def _not_provided(name):

    def op(*args, **kwargs):
        raise RuntimeError(
            f'mmcv operator {name!r} needs the compiled mmcv (mmcv._ext is '
            'missing: mmcv-lite is installed; uniformer_mm provides only '
            f'{", ".join(PROVIDED)} in plain PyTorch); install the full mmcv '
            'built for your torch to use it')

    op.__name__ = name
    op.__qualname__ = f'mmcv._ext.{name}'
    return op


class MMCVExtStandIn(types.ModuleType):
    """``mmcv._ext`` in plain PyTorch: :data:`PROVIDED` operators work,
    any other attribute is a function that raises a one-line error."""

    def __init__(self, name='mmcv._ext'):
        super().__init__(name)
        self.__file__ = __file__
        self.__spec__ = importlib.machinery.ModuleSpec(name, None)
        self.nms = nms
        self.roi_align_forward = roi_align_forward
        self.roi_align_backward = roi_align_backward

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _not_provided(name)


__all__ = ['PROVIDED', 'MMCVExtStandIn', 'nms', 'roi_align_forward',
           'roi_align_backward']

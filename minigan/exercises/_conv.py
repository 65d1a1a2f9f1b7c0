"""Checker for the layer exercise ``conv_backward``: ``MyConv2d(in_shape, out_channels, kernel, *, stride=1,
padding=0)`` in minigan's image layout (rows are flattened channels-last (H, W, C) images; ``W`` (C, k, k, F),
``b`` (F,)): the cross-correlation ``y[n, i, j, f] = b[f] + sum_{c,u,v} xp[n, s i + u, s j + v, c] W[c, u, v, f]``
and its backward (``dx`` by col2im: overlapping patches add up, the padding cut off).  A
:class:`~._modules.LayerExercise`; its reference is :mod:`minigan.nn.conv`'s maths (:mod:`minigan.nn.im2col`)."""

# ruff: noqa: E501  (the hints are long Chinese lines)

from __future__ import annotations

import numpy as np

from ..nn.im2col import conv_output_size, im2col, matrix_to_weight, weight_matrix
from . import _kit as kit
from ._kit import Mistake
from ._modules import Formula, LayerExercise, behaviours, wrong_layer


def out_hw(s):
    return tuple(conv_output_size(v, s.k, s.stride, s.padding) for v in s.in_shape[:2])


def cols(s, x, stride=None, channels_first=False, swap=False):
    """The patch matrix (N Ho Wo, k k C) of the rows x; ``stride`` other than the layer's: patches at that step (the
    first Ho x Wo of them); ``channels_first``: x's rows read as (C, H, W) images; ``swap``: as (W, H, C) images."""
    H, W, C = s.in_shape
    images = (x.reshape(len(x), C, H, W).transpose(0, 2, 3, 1) if channels_first else
              x.reshape(len(x), W, H, C) if swap else x.reshape(len(x), H, W, C))
    if stride is None:
        return im2col(images, s.k, s.stride, s.padding)
    (Ho, Wo), (Hs, Ws) = out_hw(s), (conv_output_size(v, s.k, stride, s.padding) for v in (H, W))
    return im2col(images, s.k, stride, s.padding).reshape(len(x), Hs, Ws, -1)[:, :Ho, :Wo].reshape(len(x) * Ho * Wo, -1)


def conv_y(s, x, W=None, M=None, out_first=False, **read):
    """``im2col(x) @ M + b`` with ``M`` the weight ``W`` (default: the layer's) as a (k k C, F) matrix; ``out_first``:
    y's rows flattened in (f, i, j) order; ``read``: how x's rows are read (:func:`cols`)."""
    y = cols(s, x, **read) @ (weight_matrix(s.W if W is None else W) if M is None else M) + s.b
    return (y.reshape(len(x), *out_hw(s), -1).transpose(0, 3, 1, 2) if out_first else y).reshape(len(x), -1)


def conv_dx(s, x, y, dy, how="+=", step=None, crop="p:p+H", kernel=None):
    """col2im of ``dy M^T``: each patch's gradient added (``how``) at offset ``step`` (default: the stride) times
    its position, then the padding cropped (``crop``); ``M`` from ``kernel`` (default: the layer's W)."""
    (H, W, C), k, p, n, (Ho, Wo) = s.in_shape, s.k, s.padding, len(x), out_hw(s)
    M = weight_matrix(s.W if kernel is None else kernel)
    t, d = step or s.stride, (dy.reshape(-1, s.W.shape[3]) @ M.T).reshape(n, Ho, Wo, k, k, C)
    out = np.zeros((n, H + 2 * p, W + 2 * p, C), dy.dtype)
    for i, j in np.ndindex(Ho, Wo) if how == "patch =" else ():  # a loop over the patches, each assigned
        out[:, i * t:i * t + k, j * t:j * t + k] = d[:, i, j]
    for u, v in np.ndindex(k, k) if how != "patch =" else ():  # a loop over the kernel's offsets
        end = 0 if how == "short" else 1  # short: the slice stops before the last patch
        view = out[:, u:u + t * (Ho - 1) + end:t, v:v + t * (Wo - 1) + end:t]
        view[...] = d[:, :Ho - 1 + end, :Wo - 1 + end, u, v] + (0 if how == "=" else view)
    return {"p:p+H": out[:, p:p + H, p:p + W], "p:-p": out[:, p:-p, p:-p], "1:1+H": out[:, 1:1 + H, 1:1 + W],
            "none": out}[crop].reshape(n, -1)


def conv_grads(s, x, dy, layout=lambda M, s: matrix_to_weight(M, s.W.shape), db=lambda g, dy, n: g.sum(axis=0),
               stride=None, dy_first=False):
    """``dW`` from ``cols.T @ g`` laid out by ``layout``, ``db`` by ``db``; ``dy_first``: dy read as (N, F, Ho, Wo)."""
    F = s.W.shape[3]
    g = dy.reshape(len(x), F, -1).transpose(0, 2, 1).reshape(-1, F) if dy_first else dy.reshape(-1, F)
    return {"W": layout(cols(s, x, stride).T @ g, s), "b": db(dy.reshape(-1, F), dy, len(x))}


def _init(s, in_shape, out_channels, kernel, *, stride=1, padding=0, rng=None, dtype=None, out_first=False):
    C, F = in_shape[2], out_channels
    s.__dict__.update(in_shape=tuple(in_shape), k=kernel, stride=stride, padding=padding, b=np.zeros(F, dtype),
                      W=np.zeros((F, kernel, kernel, C) if out_first else (C, kernel, kernel, F), dtype))


ConvLayer = wrong_layer(Formula, conv_y, conv_dx, conv_grads, name="ConvLayer", __init__=_init,
                        params=lambda s: {"W": s.W, "b": s.b})


def _draw(n, d, out, alpha, seed):
    """A random image shape, kernel, stride and padding (padding < kernel <= the padded image)."""
    H, W, C, F = 2 + (d + 1) // 2, 2 + seed % 4, 1 + out % 3, 1 + (seed // 4) % 3
    k, s, p = 1 + (seed // 12) % 4, 1 + (seed // 48) % 3, (seed // 144) % 3
    p = min(p, k - 1)
    k = min(k, H + 2 * p, W + 2 * p)
    return (n, H * W * C), {"in_shape": (H, W, C), "out_channels": F, "kernel": k, "stride": s, "padding": p}


def _dy_width(st, width):
    H, W, _ = st["in_shape"]
    k, s, p = st["kernel"], st.get("stride", 1), st.get("padding", 0)
    return conv_output_size(H, k, s, p) * conv_output_size(W, k, s, p) * st["out_channels"]


def positions(ex, part, got, case, x, dy):
    """The hint when dW or db is the reference's divided by the number of positions Ho Wo (or N Ho Wo)."""
    if part not in ("W", "b") or not isinstance(got, np.ndarray):
        return ""
    layer = ex.layer(ex.reference, case, np.float64)
    ref, (Ho, Wo), n = conv_grads(layer, x.astype(np.float64), dy)[part], out_hw(layer), len(x)
    c = float(np.sum(got * ref) / max(np.sum(ref * ref), 1e-300))
    for count, what in ((Ho * Wo, f"位置数 Ho * Wo = {Ho * Wo}"), (n * Ho * Wo, f"N * Ho * Wo = {n * Ho * Wo}")):
        if count > 1 and abs(c * count - 1) < 1e-6 and kit.same(got, ref / count, 1e-6):
            return f"d{part} 是正确梯度除以{what}：卷积核（偏置）在每个位置上都用了一次，它的梯度是所有位置、整批的贡献之和，不是平均；对批取平均只在损失函数里做一次。"
    return ""


def _case(n, hwc, F, k, s=None, p=None):
    extra = {k2: v for k2, v in (("stride", s), ("padding", p)) if v is not None}
    return (n, int(np.prod(hwc))), {"in_shape": hwc, "out_channels": F, "kernel": k, **extra}, 1.0


COL2IM = "dx = col2im(dcols)：dcols = dy.reshape(-1, F) @ M.T 是每一块（patch）的梯度，每块要加回（+=）它在补零图像 xp 上的位置 xp[:, s*i:s*i+k, s*j:s*j+k, :]，再去掉补零 dx = dxp[:, p:p+H, p:p+W]。"
DW = "dW = (cols.T @ g).reshape(k, k, C, F).transpose(2, 0, 1, 3)，与 W 同形 (C, k, k, F)（cols 的每一行按 行、列、通道 (u, v, c) 的顺序摊平，g = dy.reshape(-1, F)）"
CONV = LayerExercise("conv_backward", "二维卷积（互相关，步长与补零，通道在后的扁平图像）：前向与反向（dx、dW、db）", ConvLayer, [
    _case(2, (4, 5, 2), 3, 3, 2, 1), _case(3, (3, 4, 1), 2, 2), _case(1, (5, 6, 2), 1, 4, 2, 1), _case(1, (3, 4, 3), 2, 3, 2, 2)], [
    Mistake("transposed", "W 的轴排错了：这里（与 minigan 的 Conv2d 一样）卷积核是 (C_in, k, k, C_out)，即 self.W = ...(in_shape[2], kernel, kernel, out_channels)；PyTorch 的排法是 (C_out, C_in, k, k)，(C_out, k, k, C_in) 也不对。",
            wrong_layer(ConvLayer, __init__=lambda s, *a, **kw: _init(s, *a, out_first=True, **kw)), "constructor"),
    Mistake("flipped_kernel", "卷积核翻转了（那是数学上的卷积）：深度学习里的「卷积层」其实是互相关，y[n, i, j, f] = b[f] + sum over (c, u, v) of xp[n, s*i + u, s*j + v, c] * W[c, u, v, f]，不要把 W 上下、左右翻转（W[:, ::-1, ::-1, :]）。",
            wrong_layer(ConvLayer, lambda s, x: conv_y(s, x, s.W[:, ::-1, ::-1, :]))),
    Mistake("input_channels_first", "把输入读成了通道在前的图像 x.reshape(N, C, H, W)（PyTorch 的排法）：这里 x 的每一行是摊平的 (H, W, C) 图像，通道在最后，先 x.reshape(N, H, W, C)，不需要换轴。",
            wrong_layer(ConvLayer, lambda s, x: conv_y(s, x, channels_first=True))),
    Mistake("output_channels_first", "输出按 (f, i, j) 的顺序摊平了（通道在前）：y 的每一行要按 (i, j, f) 摊平，即 (N, Ho, Wo, F) 的 reshape(N, -1)——与输入一样通道在最后，下一层才能把它当作 (Ho, Wo, F) 的图像读。",
            wrong_layer(ConvLayer, lambda s, x: conv_y(s, x, out_first=True))),
    Mistake("height_width_swapped", "图像的高和宽弄反了（x.reshape(N, W, H, C)，或把 in_shape 拆成了 W, H, C）：in_shape 是 (H, W, C)，先高、再宽、最后通道，x.reshape(N, H, W, C)。正方形的图像上看不出这个错，所以评分器也用 H ≠ W 的图像。",
            wrong_layer(ConvLayer, lambda s, x: conv_y(s, x, swap=True))),
    Mistake("torch_layout", "输入和输出都用了 PyTorch 的通道在前的排法：x 读成了 (N, C, H, W)，y 摊平成了 (N, F, Ho, Wo)。这里两头都是通道在后：x.reshape(N, H, W, C)，y 是 (N, Ho, Wo, F) 的 reshape(N, -1)，按 (i, j, f) 摊平。",
            wrong_layer(ConvLayer, lambda s, x: conv_y(s, x, channels_first=True, out_first=True))),
    Mistake("forward_stride_ignored", "前向取块时忽略了步长：第 (i, j) 个输出的块是 xp[:, s*i:s*i+k, s*j:s*j+k, :]，从 (s*i, s*j) 开始；你取的是 xp[:, i:i+k, j:j+k, :]（Ho、Wo 用了步长，取块时却没用）。",
            wrong_layer(ConvLayer, lambda s, x: conv_y(s, x, stride=1))),
    Mistake("weight_flatten_order", "权重摊平的顺序与块不一致：cols 的每一行按 (u, v, c)（行、列、通道）摊平，W 是 (C, k, k, F)，直接 W.reshape(-1, F) 得到的是 (c, u, v) 的顺序。先换轴再摊平：M = W.transpose(1, 2, 0, 3).reshape(k * k * C, F)。",
            wrong_layer(ConvLayer, lambda s, x: conv_y(s, x, M=s.W.reshape(-1, s.W.shape[3])))),
    Mistake("col2im_assign", "重叠的块在 dx 里被「赋值」而不是「相加」：col2im 按核的偏移 (u, v) 循环时写了 dxp[...] = ...，被几块同时盖住的像素（核比步长大，k > s）只留下了最后一块的梯度。改成 +=：" + COL2IM,
            wrong_layer(ConvLayer, dx=lambda s, *a: conv_dx(s, *a, how="="))),
    Mistake("patch_assign", "重叠的块在 dx 里被「赋值」而不是「相加」：按输出位置 (i, j) 循环时写了 dxp[:, s*i:s*i+k, s*j:s*j+k, :] = ...，后面的块覆盖了前面的块在重叠像素上的梯度（k > s 时块有重叠）。改成 +=：" + COL2IM,
            wrong_layer(ConvLayer, dx=lambda s, *a: conv_dx(s, *a, how="patch ="))),
    Mistake("col2im_slice_short", "col2im 的切片少放了一块：dxp[:, u:u + s*(Ho - 1):s] 的终点不含在内，只放下了 Ho - 1 行（Wo - 1 列）块，最后一行、最后一列输出的梯度丢了。终点写 u + s*(Ho - 1) + 1，切片正好取到 Ho 个位置。" + COL2IM,
            wrong_layer(ConvLayer, dx=lambda s, *a: conv_dx(s, *a, how="short"))),
    Mistake("stride_ignored", "反向传播忽略了步长：第 (i, j) 块来自补零图像 xp 的 [s*i : s*i + k, s*j : s*j + k]，它的梯度也要加回那里，而不是 [i : i + k, j : j + k]。" + COL2IM,
            wrong_layer(ConvLayer, dx=lambda s, *a: conv_dx(s, *a, step=1))),
    Mistake("dx_kernel_not_flipped", "dx 用的卷积核没有翻转：把 dx 写成「补零（并按步长插零）后的 dy 与卷积核的 full 卷积」时，核要上下、左右翻转（W[:, ::-1, ::-1, :]），因为前向是互相关。不用考虑翻转的写法是 col2im：" + COL2IM,
            wrong_layer(ConvLayer, dx=lambda s, *a: conv_dx(s, *a, kernel=s.W[:, ::-1, ::-1, :]))),
    Mistake("padding_not_cropped", "dx 没有去掉补零：col2im 加回的是补零之后的图像 xp (N, H + 2p, W + 2p, C)，而 dx 必须与 x 同形，取 dx = dxp[:, p:p+H, p:p+W]（补上的零不是输入，它们的梯度丢掉）。",
            wrong_layer(ConvLayer, dx=lambda s, *a: conv_dx(s, *a, crop="none"))),
    Mistake("crop_minus_zero", "padding = 0 时 dx 是空数组：dxp[:, p:-p, p:-p] 在 p = 0 时成了 dxp[:, 0:0, 0:0]（-0 就是 0）。用 dxp[:, p:p+H, p:p+W] 或 dxp[:, p:H+p, p:W+p] 去掉补零。",
            wrong_layer(ConvLayer, dx=lambda s, *a: conv_dx(s, *a, crop="p:-p"))),
    Mistake("crop_fixed_one", "去掉补零的切片把 1 写死了：dxp[:, 1:H+1, 1:W+1] 只在 p = 1 时对。补零是 p 圈，dx = dxp[:, p:p+H, p:p+W]。",
            wrong_layer(ConvLayer, dx=lambda s, *a: conv_dx(s, *a, crop="1:1+H"))),
    Mistake("dW_out_first", f"dW 的排法是 (C_out, k, k, C_in)（输出通道在前）：这里的 W 是 (C_in, k, k, C_out)，dW 必须与它同形：{DW}。",
            wrong_layer(ConvLayer, grads=lambda s, x, dy: conv_grads(s, x, dy, lambda M, s: matrix_to_weight(M, s.W.shape).transpose(3, 1, 2, 0)))),
    Mistake("dW_stride_ignored", "dW 忽略了步长：第 (i, j) 个输出用的块是补零图像的 xp[:, s*i:s*i+k, s*j:s*j+k, :]，dW 累加的也必须是这一块，而不是 xp[:, i:i+k, j:j+k, :]。用前向的同一个块矩阵 cols（放进 cache）就不会错：" + DW + "。",
            wrong_layer(ConvLayer, grads=lambda s, x, dy: conv_grads(s, x, dy, stride=1))),
    Mistake("dy_channels_first", f"算 dW 时把 dy 读成了通道在前的 (N, F, Ho, Wo)：dy 与 y 同样按 (i, j, f) 摊平，是 (N, Ho, Wo, F)，g = dy.reshape(-1, F) 就是每个位置一行；{DW}。",
            wrong_layer(ConvLayer, grads=lambda s, x, dy: conv_grads(s, x, dy, dy_first=True))),
    Mistake("dW_last_image", "dW 只含最后一张图像的贡献：按样本循环时每次都重新给 dW 赋值（dW = ...，或在循环里 dW = np.zeros(...)），前面的图像被覆盖了。W 被批里的每张图像共用，dW 是所有图像的贡献之和：循环里用 dW += ...，或者一次算完 cols.T @ g。",
            wrong_layer(ConvLayer, grads=lambda s, x, dy: {**conv_grads(s, x, dy), "W": conv_grads(s, x[-1:], dy[-1:])["W"]})),
    Mistake("dW_reshape_order", f"dW 的数值排错了位置：(cols.T @ g).reshape(W.shape) 形状对，但 cols 的列按 (u, v, c) 排，W 按 (c, u, v) 排，直接 reshape 把数放错了格子。{DW}。",
            wrong_layer(ConvLayer, grads=lambda s, x, dy: conv_grads(s, x, dy, lambda M, s: M.reshape(s.W.shape)))),
    Mistake("dW_kkcf", f"dW 的形状是 (k, k, C_in, C_out)：cols.T @ g 按 (u, v, c) 摊平，reshape 成 (k, k, C, F) 之后还要换轴，{DW}。",
            wrong_layer(ConvLayer, grads=lambda s, x, dy: conv_grads(s, x, dy, lambda M, s: M.reshape(s.k, s.k, -1, s.W.shape[3])))),
    Mistake("db_dense", "db 只对批求和了（照搬了全连接层的 dy.sum(axis=0)）：偏置 b[f] 加到了每个位置 (i, j) 的通道 f 上，所以 db 要对批和所有位置求和，db = dy.reshape(-1, F).sum(axis=0)，形状 (C_out,)。",
            wrong_layer(ConvLayer, grads=lambda s, x, dy: conv_grads(s, x, dy, db=lambda g, dy, n: dy.sum(axis=0)))),
    Mistake("db_per_image", "db 没有对批求和：每张图像各算了一份 (N, C_out)。偏置被批里的每张图像、每个位置共用，db = dy.reshape(-1, F).sum(axis=0)，形状 (C_out,)。",
            wrong_layer(ConvLayer, grads=lambda s, x, dy: conv_grads(s, x, dy, db=lambda g, dy, n: g.reshape(n, -1, g.shape[1]).sum(axis=1)))),
    *(m for m in behaviours(ConvLayer, "np.zeros((N, H + 2p, W + 2p, C))（默认 float64）做补零或 col2im 的累加器、np.pad 之后 .astype(float)、np.float64 标量")
      if m.key != "dx_mean_rows")],
    "forward 的数值与卷积层不符：y[n, i, j, f] = b[f] + sum over (c, u, v) of xp[n, s*i + u, s*j + v, c] * W[c, u, v, f]，xp 是四周补了 p 圈零的图像，输出 (N, Ho * Wo * F) 按 (i, j, f) 摊平，Ho = (H + 2p - k) // s + 1。",
    keywords=("stride", "padding"), dy_width=_dy_width, draw=_draw, own_dtype=True, diagnose=positions,
    y_shape_hint="y 的形状不对：输出是 (N, Ho * Wo * C_out)，Ho = (H + 2p - k) // s + 1，Wo = (W + 2p - k) // s + 1（补零在上下、左右各 p 圈，所以是 2p；除法向下取整：放不下一整块的剩余行、列不算，最后一块必须完整地落在补零后的图像里）。",
    shapes_hint="数组形状对不上：x 的一行是摊平的 (H, W, C) 图像，先 x.reshape(N, H, W, C)，补零只补高和宽两个轴，np.pad(x4, ((0, 0), (p, p), (p, p), (0, 0)))；块矩阵 cols 是 (N * Ho * Wo, k * k * C)，权重矩阵 M 是 (k * k * C, F)，y = cols @ M + b；dcols = dy.reshape(-1, F) @ M.T；dW = cols.T @ g 用的也是补零后 xp 的块（与前向同一个 cols）；dx 与 x 同形 (N, H * W * C)，dW 与 W 同形 (C, k, k, F)。",
    default_hint="给 stride 和 padding 默认值：def __init__(self, in_shape, out_channels, kernel, *, stride=1, padding=0)。")

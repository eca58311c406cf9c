"""Fused multi-head attention for short sequences with small heads, for sampling.

CSDI's windows attend over sequences of a few dozen steps with heads of size 8.
Library attention kernels tile 64 to 128 rows and pad the head size, so there most
of their work is padding, and they run at a few per cent of the GPU's memory
bandwidth. Here one Triton program holds one whole
sequence on chip: it reads the rows of the fused ``qkv`` projection, attends with
every head in turn and writes the heads side by side, in the layout the output
projection reads, so that no permutation is copied either.

Only the forward pass exists: the kernel serves calls without gradients (sampling)
on CUDA in 16-bit precision, and :func:`available` says when it applies. Training
and every other call keep ``scaled_dot_product_attention``. Triton ships with the
CUDA builds of PyTorch; without it this module is inert.
"""

from __future__ import annotations

import torch
from torch import Tensor

try:
    import triton
    import triton.language as tl
except ImportError:  # CPU builds of PyTorch come without Triton
    triton = None

__all__ = ["MAX_HEAD_SIZE", "MAX_LENGTH", "available", "short_attention"]

MAX_LENGTH = 64
"""Longest sequence the kernel holds on chip (its score tile is at most 64 x 64)."""

MAX_HEAD_SIZE = 32
"""Largest head size the kernel takes."""

_HALF = (torch.bfloat16, torch.float16)


def _tile(n: int) -> int:
    """Tile size for ``n`` rows or columns: a power of two, at least 16 (the smallest
    matrix product Triton's ``tl.dot`` takes)."""
    return max(16, triton.next_power_of_2(n))


def available(qkv: Tensor, n_heads: int) -> bool:
    """Whether :func:`short_attention` serves ``qkv`` of shape (N, S, 3C).

    It does for a CUDA tensor in bf16 or fp16 that needs no gradient, with at most
    :data:`MAX_LENGTH` steps and heads of at most :data:`MAX_HEAD_SIZE` channels,
    when Triton is installed.
    """
    if triton is None or not qkv.is_cuda or qkv.dtype not in _HALF:
        return False
    if qkv.requires_grad and torch.is_grad_enabled():
        return False
    _, length, width = qkv.shape
    return length <= MAX_LENGTH and width // (3 * n_heads) <= MAX_HEAD_SIZE


if triton is not None:

    @triton.jit
    def _attention_kernel(
        qkv_ptr,
        out_ptr,
        length,
        scale,
        qkv_seq_stride,
        qkv_row_stride,
        out_seq_stride,
        out_row_stride,
        N_HEADS: tl.constexpr,
        HEAD: tl.constexpr,
        ROWS: tl.constexpr,
        COLS: tl.constexpr,
    ):
        sequence = tl.program_id(0).to(tl.int64)  # offsets may pass 2**31 elements
        rows = tl.arange(0, ROWS)  # (ROWS,) time steps, padded
        cols = tl.arange(0, COLS)  # (COLS,) channels of one head, padded
        inside = (rows[:, None] < length) & (cols[None, :] < HEAD)  # (ROWS, COLS)
        keys_inside = tl.arange(0, ROWS)[None, :] < length  # (1, ROWS)
        base = qkv_ptr + sequence * qkv_seq_stride
        at = rows[:, None] * qkv_row_stride + cols[None, :]  # (ROWS, COLS)
        out_at = rows[:, None] * out_row_stride + cols[None, :]
        width = N_HEADS * HEAD
        for head in tl.static_range(N_HEADS):
            q = tl.load(base + at + head * HEAD, mask=inside, other=0.0)
            k = tl.load(base + at + width + head * HEAD, mask=inside, other=0.0)
            v = tl.load(base + at + 2 * width + head * HEAD, mask=inside, other=0.0)
            scores = tl.dot(q, tl.trans(k)) * scale  # (ROWS, ROWS) float32
            scores = tl.where(keys_inside, scores, float("-inf"))
            weights = tl.exp(scores - tl.max(scores, axis=1)[:, None])
            weights = weights / tl.sum(weights, axis=1)[:, None]
            y = tl.dot(weights.to(v.dtype), v)  # (ROWS, COLS) float32
            tl.store(
                out_ptr + sequence * out_seq_stride + out_at + head * HEAD,
                y.to(out_ptr.dtype.element_ty),
                mask=inside,
            )


@torch.library.custom_op("tsdiff::short_attention", mutates_args=())
def _short_attention(qkv: Tensor, n_heads: int) -> Tensor:
    n_seq, length, width = qkv.shape
    channels = width // 3
    head = channels // n_heads
    qkv = qkv.contiguous()
    out = torch.empty((n_seq, length, channels), dtype=qkv.dtype, device=qkv.device)
    _attention_kernel[(n_seq,)](
        qkv,
        out,
        length,
        head**-0.5,
        qkv.stride(0),
        qkv.stride(1),
        out.stride(0),
        out.stride(1),
        N_HEADS=n_heads,
        HEAD=head,
        ROWS=_tile(length),
        COLS=_tile(head),
    )
    return out


@_short_attention.register_fake
def _(qkv: Tensor, n_heads: int) -> Tensor:
    n_seq, length, width = qkv.shape
    return qkv.new_empty((n_seq, length, width // 3))


def short_attention(qkv: Tensor, n_heads: int) -> Tensor:
    """Multi-head softmax attention straight from the fused ``qkv`` projection.

    Parameters
    ----------
    qkv : Tensor of shape (N, S, 3C)
        Queries, keys and values of N independent sequences of S steps, side by side
        along the last axis, each split into ``n_heads`` heads of ``C / n_heads``
        channels (the layout of ``nn.MultiheadAttention``'s in-projection). Must
        pass :func:`available`.
    n_heads : int
        Number of heads H.

    Returns
    -------
    Tensor of shape (N, S, C), the heads' outputs side by side, in ``qkv``'s dtype:
    what ``scaled_dot_product_attention`` gives for the same heads, up to rounding.
    """
    return _short_attention(qkv, n_heads)

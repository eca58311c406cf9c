"""Multi-head attention straight from a fused ``qkv`` projection, two ways.

:func:`attention` takes the output of one ``Linear(C, 3C)`` (queries, keys and values
side by side, each split into heads as ``nn.MultiheadAttention`` does) and returns the
heads' outputs side by side, ready for the output projection.

* **SDPA** (:func:`sdpa_attention`): PyTorch's ``scaled_dot_product_attention``,
  with a kernel order of its own for short sequences (see
  :data:`SHORT_SEQUENCE_PRIORITY`). Serves training, fp32 and the CPU.
* **Fused** (:func:`fused_attention`): CSDI's windows attend over sequences of a
  few dozen steps with heads of size 8, where library attention kernels, which tile
  64 to 128 rows and pad the head size, mostly compute padding and run at a few per
  cent of the GPU's memory bandwidth. A Triton program here holds one whole sequence
  on chip: it reads the sequence's ``qkv`` rows, attends with every head in turn and
  writes the heads side by side, so no permutation is copied either. It has no
  backward pass, so it serves only calls that need no gradient (sampling, and the
  validation loss during ``fit``), on CUDA cards of compute capability 8.0 or newer,
  in bf16 or fp16; :func:`fused_available` says when. Triton ships with PyTorch's
  CUDA builds; without it, or should the kernel fail to build or launch (a warning
  says why), every call takes SDPA.
"""

from __future__ import annotations

import functools
import logging

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.attention import SDPBackend, sdpa_kernel

try:
    import triton
    import triton.language as tl
except ImportError:  # CPU builds of PyTorch come without Triton
    triton = None

__all__ = [
    "MAX_FUSED_HEAD_SIZE",
    "SHORT_SEQUENCE",
    "SHORT_SEQUENCE_PRIORITY",
    "attention",
    "fused_attention",
    "fused_available",
    "sdpa_attention",
]

logger = logging.getLogger(__name__)

# For sequences of at most SHORT_SEQUENCE steps, scaled_dot_product_attention tries
# its kernels in this order (the first that supports the inputs runs). At CSDI's
# windows (36 steps, head size 8) the memory-efficient kernel is about 3x faster on an
# H100 than PyTorch's own first choice, whose tiles are mostly padding there; at 192
# or 512 steps PyTorch's own choice is faster and far leaner, so longer sequences
# keep it. The CPU has no memory-efficient kernel and takes the fused flash kernel
# as before. The fused Triton kernel takes sequences of up to this length too.
SHORT_SEQUENCE = 64
SHORT_SEQUENCE_PRIORITY = [
    SDPBackend.EFFICIENT_ATTENTION,
    SDPBackend.FLASH_ATTENTION,
    SDPBackend.CUDNN_ATTENTION,
    SDPBackend.MATH,
]

MAX_FUSED_HEAD_SIZE = 32
"""Largest head size the fused kernel takes."""

_HALF = (torch.bfloat16, torch.float16)
# Set once the fused kernel has failed to build or launch in this process.
_FUSED_FAILED: list[str] = []


def attention(qkv: Tensor, n_heads: int, fused: bool = True) -> Tensor:
    """Multi-head softmax attention of N sequences from their fused projection.

    Parameters
    ----------
    qkv : Tensor of shape (N, S, 3C)
        Queries, keys and values of N independent sequences of S steps, side by side
        along the last axis, each split into ``n_heads`` heads of ``C / n_heads``
        channels.
    n_heads : int
        Number of heads H.
    fused : bool, default=True
        Take the fused kernel where :func:`fused_available`; False: always SDPA.

    Returns
    -------
    Tensor of shape (N, S, C): the heads' outputs side by side, in ``qkv``'s dtype.

    Examples
    --------
    >>> import torch
    >>> from tsdiff.nn._attention import attention
    >>> qkv = torch.randn(2, 5, 3 * 8, generator=torch.Generator().manual_seed(0))
    >>> attention(qkv, n_heads=2).shape
    torch.Size([2, 5, 8])
    """
    if fused and fused_available(qkv, n_heads):
        return fused_attention(qkv, n_heads)
    return sdpa_attention(qkv, n_heads)


def sdpa_attention(qkv: Tensor, n_heads: int) -> Tensor:
    """:func:`attention` through ``scaled_dot_product_attention``."""
    N, S, width = qkv.shape
    C = width // 3
    heads = qkv.view(N, S, 3, n_heads, C // n_heads)  # (N, S, 3, H, D)
    q, k, v = heads.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x (N, H, S, D)
    if S <= SHORT_SEQUENCE:
        # Inside the traced function, so that torch.compile keeps the same choice.
        with sdpa_kernel(SHORT_SEQUENCE_PRIORITY, set_priority=True):
            y = F.scaled_dot_product_attention(q, k, v)  # (N, H, S, D)
    else:
        y = F.scaled_dot_product_attention(q, k, v)  # (N, H, S, D)
    return y.transpose(1, 2).reshape(N, S, C)  # (N, S, C)


def fused_available(qkv: Tensor, n_heads: int) -> bool:
    """Whether :func:`fused_attention` serves ``qkv`` of shape (N, S, 3C).

    It does for a CUDA tensor in bf16 or fp16 that needs no gradient, with at most
    :data:`SHORT_SEQUENCE` steps and heads of at most :data:`MAX_FUSED_HEAD_SIZE`
    channels, when Triton is installed and the kernel has not failed in this
    process. (On cards older than compute capability 8.0 the fused operation itself
    computes through SDPA.)

    Examples
    --------
    >>> import torch
    >>> from tsdiff.nn._attention import fused_available
    >>> fused_available(torch.zeros(2, 36, 192, dtype=torch.bfloat16), 8)  # CPU
    False
    """
    if not _OP_DEFINED or _FUSED_FAILED:
        return False
    if not qkv.is_cuda or qkv.dtype not in _HALF:
        return False
    if qkv.requires_grad and torch.is_grad_enabled():
        return False
    _, length, width = qkv.shape
    return length <= SHORT_SEQUENCE and width // (3 * n_heads) <= MAX_FUSED_HEAD_SIZE


@functools.cache
def _capability(device: torch.device) -> tuple[int, int]:
    return torch.cuda.get_device_capability(device)


def fused_attention(qkv: Tensor, n_heads: int) -> Tensor:
    """:func:`attention` in the fused Triton kernel; ``qkv`` must pass
    :func:`fused_available`. Agrees with :func:`sdpa_attention` up to rounding."""
    return _fused_op(qkv, n_heads)


def _tile(n: int) -> int:
    """Tile size for ``n`` rows or columns: a power of two, at least 16 (the smallest
    matrix product Triton's ``tl.dot`` takes)."""
    return max(16, triton.next_power_of_2(n))


def _launch(qkv: Tensor, n_heads: int) -> Tensor:
    n_seq, length, width = qkv.shape
    channels = width // 3
    head = channels // n_heads
    qkv = qkv.contiguous()
    out = torch.empty((n_seq, length, channels), dtype=qkv.dtype, device=qkv.device)
    # Triton launches on the current device: make it qkv's (one thread per GPU
    # samples with every thread's current device at 0).
    with torch.cuda.device(qkv.device):
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


def _fused_or_sdpa(qkv: Tensor, n_heads: int) -> Tensor:
    if not _FUSED_FAILED and _capability(qkv.device) >= (8, 0):
        try:
            return _launch(qkv, n_heads)
        except Exception as error:  # no C compiler, an unsupported card, ...
            _FUSED_FAILED.append(f"{type(error).__name__}: {error}")
            logger.warning(
                "the fused attention kernel failed (%s); attention takes "
                "scaled_dot_product_attention from now on",
                _FUSED_FAILED[0].splitlines()[0],
            )
    return sdpa_attention(qkv, n_heads)


# torch.library.custom_op (torch 2.4 and later) makes the kernel one opaque operation
# that torch.compile can trace around.
_OP_DEFINED = triton is not None and hasattr(torch.library, "custom_op")

if _OP_DEFINED:

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
    def _fused_op(qkv: Tensor, n_heads: int) -> Tensor:
        return _fused_or_sdpa(qkv, n_heads)

    @_fused_op.register_fake
    def _(qkv: Tensor, n_heads: int) -> Tensor:
        n_seq, length, width = qkv.shape
        return qkv.new_empty((n_seq, length, width // 3))

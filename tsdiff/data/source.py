"""Training windows as views of whole series.

A :class:`WindowSource` holds each series once, time-major, and the start of every
training window; a batch is gathered from them on the device that holds the series.
Memory then grows with the length of the data, not with the number of overlapping
windows (a stride-1 window of L steps would otherwise copy every value L times), and
drawing a batch needs no copy from the host when the series live on the GPU.

The one change from the time-major layout of series, (T, K), to the network's
(B, K, L) happens here, in :meth:`WindowSource.batch`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

__all__ = ["WindowSource"]

_ON_GPU_BYTES = 2**30
"""Series up to this size move to the GPU; larger ones stay in host memory and
each batch is gathered there and copied."""


@dataclass(frozen=True)
class WindowSource:
    """Series and the starts of the training windows cut from them.

    Parameters
    ----------
    values : Tensor of shape (T, K), float32
        Scaled values of all series, one after another; 0 where not observed.
    observed : Tensor of shape (T, K), bool
        True where a value is observed.
    starts : Tensor of shape (N,), int64
        Row of ``values`` at which each window starts; every window lies inside
        ``values`` (a window never straddles two series: the caller chooses starts
        that keep it inside one).
    length : int
        Window length L.
    covariates : Tensor of shape (T, C), float32, or None
        Covariates of every row, for a network that takes them.

    Examples
    --------
    Two windows of 3 steps from a series of 5 steps and 2 variables:

    >>> import numpy as np
    >>> from tsdiff.data import WindowSource
    >>> values = np.arange(10.0).reshape(5, 2)  # (T, K)
    >>> source = WindowSource.from_series(values, np.ones((5, 2), bool), [0, 2], 3)
    >>> len(source), source.n_features
    (2, 2)
    >>> x0, observed, covariates = source.batch(torch.tensor([1, 0]))
    >>> x0.shape  # (B, K, L)
    torch.Size([2, 2, 3])
    >>> x0[0].tolist()  # the window starting at row 2
    [[4.0, 6.0, 8.0], [5.0, 7.0, 9.0]]
    >>> covariates is None
    True
    """

    values: Tensor
    observed: Tensor
    starts: Tensor
    length: int
    covariates: Tensor | None = None

    def __post_init__(self) -> None:
        T = self.values.shape[0]
        if self.values.ndim != 2 or self.observed.shape != self.values.shape:
            raise ValueError(
                "values and observed must share one shape (T, K); got "
                f"{tuple(self.values.shape)} and {tuple(self.observed.shape)}"
            )
        if self.covariates is not None and (
            self.covariates.ndim != 2 or self.covariates.shape[0] != T
        ):
            raise ValueError(
                f"covariates must have shape (T, C) with T={T}; got "
                f"{tuple(self.covariates.shape)}"
            )
        if self.length < 1:
            raise ValueError(f"length must be >= 1, got {self.length}")
        if self.starts.ndim != 1 or len(self.starts) == 0:
            raise ValueError("starts must be a non-empty 1-d tensor")
        low, high = int(self.starts.min()), int(self.starts.max())
        if low < 0 or high + self.length > T:
            raise ValueError(
                f"every window must lie inside the {T} rows; starts span "
                f"[{low}, {high}] with length {self.length}"
            )

    @classmethod
    def from_series(
        cls,
        values: np.ndarray,
        observed: np.ndarray,
        starts: np.ndarray,
        length: int,
        covariates: np.ndarray | None = None,
    ) -> WindowSource:
        """A source from time-major numpy arrays.

        Parameters
        ----------
        values : ndarray of shape (T, K)
            Scaled values; cast to float32, NaN set to 0.
        observed : ndarray of shape (T, K), bool
        starts : array-like of int, shape (N,)
        length : int
        covariates : ndarray of shape (T, C) or None, default=None

        Returns
        -------
        WindowSource

        Examples
        --------
        Windows of 4 steps at every start of a series of 6 steps:

        >>> import numpy as np
        >>> from tsdiff.data import WindowSource
        >>> values = np.array([[1.0], [np.nan], [3.0], [4.0], [5.0], [6.0]])  # (T, K)
        >>> source = WindowSource.from_series(values, ~np.isnan(values), range(3), 4)
        >>> len(source), source.values[:, 0].tolist()  # NaN is stored as 0
        (3, [1.0, 0.0, 3.0, 4.0, 5.0, 6.0])
        """
        values = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0)
        cov = None
        if covariates is not None:
            cov = torch.from_numpy(np.ascontiguousarray(covariates, dtype=np.float32))
        return cls(
            values=torch.from_numpy(np.ascontiguousarray(values)),
            observed=torch.from_numpy(np.ascontiguousarray(observed, dtype=bool)),
            starts=torch.as_tensor(np.asarray(starts, dtype=np.int64)),
            length=int(length),
            covariates=cov,
        )

    @classmethod
    def from_windows(
        cls,
        x0: np.ndarray,
        observed: np.ndarray,
        covariates: np.ndarray | None = None,
    ) -> WindowSource:
        """A source of ready-cut windows, laid end to end.

        Parameters
        ----------
        x0 : ndarray of shape (N, K, L)
            Windows in the network's layout.
        observed : ndarray of shape (N, K, L), bool
        covariates : ndarray of shape (N, C, L) or None, default=None

        Returns
        -------
        WindowSource
            Whose window ``i`` is ``x0[i]`` (starts ``0, L, 2L, ...``).

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.data import WindowSource
        >>> x0 = np.arange(12.0, dtype=np.float32).reshape(2, 2, 3)  # (N, K, L)
        >>> source = WindowSource.from_windows(x0, np.ones(x0.shape, bool))
        >>> bool((source.batch(torch.arange(2))[0].numpy() == x0).all())
        True
        """
        N, K, L = x0.shape
        series = np.asarray(x0).transpose(0, 2, 1).reshape(N * L, K)  # (N*L, K)
        mask = np.asarray(observed).transpose(0, 2, 1).reshape(N * L, K)
        cov = None
        if covariates is not None:
            C = covariates.shape[1]
            cov = np.asarray(covariates).transpose(0, 2, 1).reshape(N * L, C)
        return cls.from_series(series, mask, np.arange(N) * L, L, cov)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def n_features(self) -> int:
        """Number of variables K."""
        return self.values.shape[1]

    @property
    def n_covariates(self) -> int:
        """Covariate channels C (0 without covariates)."""
        return 0 if self.covariates is None else self.covariates.shape[1]

    def to(self, device: torch.device) -> WindowSource:
        """The source with its series on ``device`` where they are small enough
        (at most 1 GiB), else left in host memory.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.data import WindowSource
        >>> source = WindowSource.from_series(np.zeros((5, 1)), np.ones((5, 1)), [0], 5)
        >>> source.to(torch.device("cpu")) is source  # nothing to move
        True
        """
        if device.type != "cuda":
            return self
        size = self.values.nbytes + self.observed.nbytes
        size += 0 if self.covariates is None else self.covariates.nbytes
        if size > _ON_GPU_BYTES:
            return self
        cov = None if self.covariates is None else self.covariates.to(device)
        return WindowSource(
            self.values.to(device),
            self.observed.to(device),
            self.starts.to(device),
            self.length,
            cov,
        )

    def batch(
        self, rows: Tensor, device: torch.device | None = None
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """The windows ``rows`` in the network's layout.

        Parameters
        ----------
        rows : Tensor of shape (B,), int64
            Window indices in ``[0, N)``, on any device.
        device : torch.device or None, default=None
            Where to return the batch; None keeps the source's device.

        Returns
        -------
        x0 : Tensor of shape (B, K, L), float32
        observed : Tensor of shape (B, K, L), bool
        covariates : Tensor of shape (B, C, L), float32, or None

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.data import WindowSource
        >>> values = np.arange(6.0).reshape(6, 1)  # (T, K)
        >>> cov = np.stack([np.arange(6.0), -np.arange(6.0)], axis=1)  # (T, C)
        >>> source = WindowSource.from_series(values, values > 0, [0, 3], 3, cov)
        >>> x0, observed, covariates = source.batch(torch.tensor([1]))
        >>> x0.tolist(), observed.tolist(), covariates.shape
        ([[[3.0, 4.0, 5.0]]], [[[True, True, True]]], torch.Size([1, 2, 3]))
        """
        out = [self._windows(part, rows) for part in (self.values, self.observed)]
        cov = None if self.covariates is None else self._windows(self.covariates, rows)
        if device is not None:
            out = [part.to(device) for part in out]
            cov = None if cov is None else cov.to(device)
        return out[0], out[1], cov

    def digest(self) -> str:
        """A SHA-256 of the series, starts, window length and covariates: what a
        resumed training checkpoint must match.

        Examples
        --------
        >>> import numpy as np
        >>> from tsdiff.data import WindowSource
        >>> values, observed = np.zeros((5, 1)), np.ones((5, 1), bool)
        >>> a = WindowSource.from_series(values, observed, [0, 1], 4)
        >>> b = WindowSource.from_series(values, observed, [0], 4)
        >>> a.digest() == WindowSource.from_series(values, observed, [0, 1], 4).digest()
        True
        >>> a.digest() == b.digest()  # other windows
        False
        """
        hasher = hashlib.sha256()
        parts = [self.values, self.observed, self.starts, self.covariates]
        for part in parts:
            if part is not None:
                hasher.update(part.cpu().contiguous().numpy().tobytes())
        hasher.update(repr((self.length, self.n_covariates)).encode())
        return hasher.hexdigest()

    def _windows(self, part: Tensor, rows: Tensor) -> Tensor:
        """Windows ``rows`` of one series tensor ``part`` (T, D): (n, D, L),
        contiguous, on the device of the series."""
        here = self.starts.device
        offsets = self.starts[rows.to(here)][:, None] + torch.arange(
            self.length, device=here
        )  # (n, L) rows of the series
        return part[offsets].transpose(1, 2).contiguous()  # (n, L, D) -> (n, D, L)

"""Docstring pieces shared by the estimators, and the templating that fills them in.

Class docstrings name a shared block by a placeholder line (``<common parameters>``,
``<training attributes>``, ``<feature attributes>``); a few ``fit`` docstrings take a
shared parameter through a ``{field}`` (:func:`fill_doc`). The output methods of the
estimators have static docstrings, written once in the mixins that hold them.
"""

from __future__ import annotations

__all__ = [
    "COMMON_PARAMETERS_DOC",
    "FEATURE_ATTRIBUTES_DOC",
    "TRAINING_ATTRIBUTES_DOC",
    "LEVELS_AND_FREQ_DOC",
    "fill_doc",
    "share_docs",
]

COMMON_PARAMETERS_DOC = """\
    n_layers, n_channels, n_heads : int, default=4, 64, 8
        Residual blocks, channel width and attention heads of the denoiser
        (``n_heads`` must divide ``n_channels``).
    time_embedding_dim, feature_embedding_dim, diffusion_embedding_dim : int
        Sizes of the time-position, variable and noise-level embeddings
        (defaults 128, 16, 128; the first and last must be even).
    patch_length : int, default=1
        Steps per token of the denoiser: the network reads the window as patches
        of ``patch_length`` steps of one variable, one token each, and its
        residual blocks run over the (variables, window length / patch_length)
        grid of tokens; one linear layer maps every token back to its steps.
        Trained end to end by the usual denoising loss (no separate
        autoencoder), while the diffusion stays on the data grid, so given values
        condition every cell exactly and every process and sampler applies. Cost
        model: attention along time costs ``1 / patch_length**2`` of its cost at
        full resolution, across variables and in every other layer
        ``1 / patch_length``; a training step and a network evaluation in
        sampling cost about that. For long windows (hundreds of steps);
        the window (``window_length``, or ``context_length +
        prediction_length``) must be a multiple of it. 1 is CSDI's full
        resolution.
    latent_dim : int or None, default=None
        Latent diffusion (Rombach et al. 2022): an autoencoder maps every patch
        of ``patch_length`` steps of one variable to ``latent_dim`` values, the
        diffusion runs on that latent grid and the decoder maps samples back;
        None diffuses on the data grid. The autoencoder (two hidden layers of 64
        per patch, shared by all variables, reading the patch's values and
        mask) is trained first, for up to 2000 steps on the reconstruction of
        observed values, its time counted in ``max_fit_time``, and frozen; the
        denoiser is then trained on its latents
        with ``patch_length=latent_dim`` tokens (one token per patch), so its
        cost is that of ``patch_length`` above. Two stages, because a latent
        trained with the denoising loss can shrink towards the noise and
        cheapen the loss without modelling anything. Conditioning: a patch
        whose steps are all given keeps its latent fixed, every patch reads the
        encoding of its given steps, the decoder reads them too, and after
        decoding the given values are put back exactly. Seasonal lags become
        lags of whole patches and covariates are averaged over each patch. Off
        by default: on short windows of sparse series (PhysioNet) it was
        measured worse than full resolution; it is meant for long windows of
        mostly observed series (``benchmarks/README.md``).
    patch_width : int, default=1
        Variables per patch of the latent model (``latent_dim`` must be set):
        the autoencoder maps ``patch_length`` steps of ``patch_width``
        neighbouring variables (in column order; a last group short of
        ``patch_width`` is filled with given zeros) to ``latent_dim`` values, so
        the denoiser's grid has ``ceil(n_variables / patch_width)`` rows and
        attention across variables costs about ``1 / patch_width**2`` of its cost
        with patches of one variable. For windows of hundreds of variables, where
        that attention dominates; order the columns so that neighbours are
        alike. Conditioning as above: a patch is fixed in the latent only when
        all its cells are given.
    time_kernel : int, default=7 (imputer) or 1 (forecaster)
        Width of a depthwise convolution along time in every residual block of
        the network, before its attention along time (odd; 1 for none, CSDI's
        network). The first block's attention reads no position, so without it
        the network cannot tell a neighbouring step from a distant one: given
        nothing near a cell (long gaps, ``generate``, ``denoise``, forecasts)
        its samples vary from step to step like white noise. With 7 they follow
        the data's autocorrelation. On validation data 7 changed the CRPS of
        PhysioNet's imputations by -0.9 %, and of CO2's and ILI's forecasts by
        -4.6 % and +4.5 %, with a worse CRPS of each forecast's mean over its
        horizon on both, so the forecaster keeps 1 (``benchmarks/README.md``,
        "Locality along time"). A few parameters per block.
    process : {"ddpm", "vp", "subvp", "ve"}, default="ddpm"
        Diffusion family. "ddpm" is the discrete chain of CSDI (Ho et al. 2020),
        set by the next four parameters. The others are continuous-time SDEs of Song
        et al. (2021) with their published settings: "vp" (variance preserving,
        beta 0.1 to 20), "subvp" (sub-VP) and "ve" (variance exploding, the
        geometric noise levels 0.01 to 50 of score-based NCSN models, trained by
        denoising score matching). The process decides which samplers apply.
    n_diffusion_steps : int, default=50
        Steps of the discrete noise process ("ddpm" only).
    schedule : {"quad", "linear", "cosine"}, default="quad"
        Named noise schedule; "quad" is CSDI's ("ddpm" only).
    beta_start, beta_end : float, default=1e-4, 0.5
        First and last noise variance of "quad" and "linear" ("ddpm" only).
    parameterization : {"v", "epsilon"}, default="v"
        How the network output is read: "epsilon" predicts the noise (CSDI);
        "v" predicts the velocity (Salimans & Ho 2022), read as a noise prediction
        that does not amplify network error at high noise, which keeps sampling
        stable.
    loss : {"epsilon", "v"}, default="epsilon"
        What training minimises: the squared error of the predicted noise (CSDI),
        or of the velocity, which is the noise error weighted by ``1 + 1 / SNR``
        (Salimans & Ho 2022). The noise loss barely trains the clean-data estimate
        at the highest noise levels, the estimate from which samplers with few
        steps take their first, largest jumps; the velocity loss trains it. "v"
        needs ``parameterization="v"``.
    center_windows : bool, default=False (imputer) or True (forecaster)
        Model every window relative to the mean of its given values, per variable,
        so that a series whose level drifts far from the training mean still looks
        familiar to the network (the forecaster's default: a forecast extends a
        level the training data may never have reached). False models the scaled
        values themselves: the network then sees each window's absolute level,
        which matters where the spread of the data grows with its level. For
        imputation False was better on PM2.5 and as good on PhysioNet
        (``benchmarks/README.md``). Fixed at fit: after a change, sampling raises
        until it is set back (or the model is fitted again).
    scale_windows : bool, default=False
        Also divide every window, per variable, by the root mean square of its given
        values less the offset, and multiply the samples back: by their standard
        deviation in centred windows (instance normalisation, Kim et al. 2022:
        RevIN), by their magnitude in uncentred ones (akin to the mean scaling of
        DeepAR, Salinas et al. 2020, which divides by the mean absolute value). A
        series whose swings grow beyond those of the training data (counts of a
        growing population, say) then still looks familiar, and its intervals widen
        with it. Values below 0.1 (in the scaled units: a tenth of the series'
        standard deviation with the standard scaler) count as 0.1, so that a flat
        centred window is not blown up; a variable with fewer than two given values
        in a window is not scaled. Fixed at fit, like ``center_windows``.
    lags : "auto", tuple of int or None, default=None (imputer) or "auto" (forecaster)
        Seasonal lags the network reads at every cell: for a lag of s steps, the
        given value s steps earlier and s steps later in the same window (and
        whether it is given). A seasonal pattern then reaches each cell directly,
        instead of having to be learned through attention over time (lagged
        inputs as in DeepAR, Salinas et al. 2020, and TSDiff, Kollovieh et al.
        2023). "auto" takes the steps that a day, a week and a year span on the
        time index (24 and 168 for hourly data, 52 for weekly, 12 for monthly),
        those shorter than the window; an index without dates gives none. Explicit
        lags must be shorter than the window. The lags in use after fit are
        ``network_.config.lags``.
    interpolated_input : bool, default=True
        Give the network, beside the given values, a coarse estimate of every cell:
        the straight line between the nearest given values of its variable before
        and after it, the nearest given value where only one side has one (the last
        value, for a forecast). The network refines that estimate rather than
        starting from zeros at the cells it predicts (the interpolated input of
        PriSTI, Liu et al. 2023). One more input channel; sampling costs the same.
        On validation data it cut the CRPS of PM2.5's imputation by 8 % and of
        ILI's forecasts by 13 %, and left CO2's forecasts as they were
        (``README.md``, "Why the defaults are what they are").
    target_strategy : {"random", "historical", "mix", "block", "strided"}, \
default="random"
        Training mask policy: which observed values are hidden and learned
        (:data:`tsdiff.data.MASK_STRATEGIES`). ``"strided"`` gives every f-th
        step, the readings of a coarser grid, for models meant to ``upsample``.
    unconditional_share : float in [0, 1), default=0.0
        Share of training windows given nothing, every observed value a target,
        so that the network also learns windows without given values: those
        that ``denoise`` samples (its readings are noisy, none is given) and
        ``upsample(how="mean")`` (means fix no value). 0 trains as CSDI does.
    scaler : {"standard", "robust", "none"}, default="standard"
        Per-variable scaling fitted on observed values only.
    n_epochs : int, default=100
        Epochs of training. With ``steps_per_epoch`` they set what a fit costs:
        ``n_epochs * steps_per_epoch`` optimiser steps (5000 by default) of
        ``batch_size`` windows each, however long the data.
    steps_per_epoch : int or None, default=50
        Optimiser steps per epoch, each on windows drawn at random (with
        replacement) from all training windows of all series (the
        ``num_batches_per_epoch`` of GluonTS). None makes an epoch one pass over
        every window (every start position) in a random order, CSDI's epoch, whose
        cost grows with the length of the data. Checkpoints, ``max_fit_time``,
        validation and early stopping act at the end of an epoch.
    batch_size : int or "auto", default="auto"
        Training windows per optimiser step. "auto" takes 32 on a CPU, where time
        grows with the batch, and on a GPU as many windows as hold about
        2**17 values (variables x window length), between 32 and 256
        (:func:`tsdiff.engine.auto_batch_size`).
    learning_rate, weight_decay : float, default=1e-3, 1e-6
        Adam settings; ``learning_rate`` is the peak of ``lr_schedule``.
    lr_schedule : {"cosine", "multistep", "constant"}, default="cosine"
        How the learning rate moves over the optimiser steps of the fit: "cosine"
        rises linearly over the first 5 % of the steps and then falls along a half
        cosine to 0 at the last; "multistep" (CSDI's) drops it tenfold at 75 % and
        90 % of the epochs; "constant" keeps it (:mod:`tsdiff.engine.lr`).
    validation_fraction : float, default=0.0
        Share of the (latest) windows held out to monitor the loss; the best epoch's
        weights are kept.
    early_stopping_patience : int or None, default=None
        Stop after this many epochs without improvement of the monitored loss.
    ema_decay : float or None, default=None
        Keep an exponential moving average of the weights with this decay per
        optimiser step (e.g. 0.999) and predict with it; None uses the last weights.
    max_grad_norm : float or None, default=1.0
        Clip the gradient norm of every training step to this value (a rare steep
        batch cannot throw the weights off); None disables clipping, as CSDI trains.
        A loss that still becomes NaN or infinite stops the fit with a
        ``ValueError`` naming the epoch.
    mixed_precision : bool, default=True
        Run the network in bfloat16 autocast on CUDA devices; ignored on CPU.
    compile : str or bool, default="auto"
        Run the network through ``torch.compile``: True or "default" in torch's
        default mode, "reduce-overhead" also replaying every forward and backward
        pass as one CUDA graph, "max-autotune", or False for never. On a GPU, where
        the small kernels of this network are otherwise launched one Python call
        at a time, steps then run faster after a one-off compilation (about 20 s
        per input shape, so sampling pads its last batch to the size of the
        others). "auto" trains through CUDA graphs on a single GPU when the fit has
        at least 2000 steps (36 x 36 windows then train 2.3 to 2.6 times as fast:
        ``benchmarks/results/throughput_train_graphs_h200.md``); it trains
        uncompiled on a CPU, on several GPUs and for fewer steps, and always
        samples uncompiled, since sampling calls come in many shapes and each
        would compile anew. Compiling needs Triton on CUDA and a C++ compiler on
        CPU; where the compiled forward pass cannot be built or run, a warning is
        logged and the network runs uncompiled, so a saved model with ``compile``
        set also loads and predicts on machines without them.
    checkpoint_path : str, path or None, default=None
        File that holds the whole training state after every epoch. A fit that
        finds a checkpoint of the same data, settings and seed resumes from it and
        trains exactly as if never interrupted; one of another fit is an error.
    max_fit_time : float or None, default=None
        Stop training after the first epoch that ends past this many seconds
        (with ``checkpoint_path``, fit again later to continue). A time budget:
        under the "cosine" schedule, the cosine is brought forward after every
        epoch to end at the step that the time left allows at the pace of the
        epochs since the first, so a fit stopped by the limit has annealed its
        learning rate instead of being cut off at a high one (the first epoch,
        which may hold compilation, follows the planned schedule; a timed fit is
        not reproducible step for step).
    num_samples : int, default=100
        Monte-Carlo samples per window behind every median, quantile and interval.
    sampler : str or None, default=None
        Reverse-process sampler, changeable after ``fit`` with ``set_params``; None
        takes "dpmpp_2m" (DPM-Solver++(2M), a second-order solver of the
        probability-flow ODE) with 10 steps, for every process. Every process can
        also use "ddpm" (ancestral, CSDI's) and "ddim"; on the PM2.5 benchmark 10
        steps of "dpmpp_2m" came within 3.3 % of the CRPS of 50 ancestral steps at a
        fifth of the network evaluations, with better calibrated intervals
        (``benchmarks/README.md``); choose "ddpm" with 50 steps for the last few per
        cent. The continuous processes add "euler_maruyama" (reverse-time SDE),
        "pc" (predictor-corrector with one Langevin corrector step), "heun" (the
        probability-flow ODE, second order) and, for "ve" only,
        "annealed_langevin" (NCSN's sampler, 10 Langevin steps per noise level);
        these need 20 or more network evaluations for the accuracy that
        "dpmpp_2m" reaches at 10.
    sampling_steps : int or None, default=None
        Steps of the sampler; None takes the sampler's default: 10 for "dpmpp_2m"
        (or the whole chain if it is shorter), all ``n_diffusion_steps`` for
        "ddpm" and "ddim" (50 on a continuous process), 100 for "euler_maruyama"
        and "pc", 25 for "heun", 10 levels for "annealed_langevin". Network
        evaluations per sample are this number, twice it for "heun" and "pc", ten
        times it for "annealed_langevin" (:func:`tsdiff.diffusion.nfe`).
    eta : float, default=0.0
        Stochasticity of "ddim" (0 deterministic, 1 equals "ddpm") and of
        "dpmpp_2m" (0 the ODE solver, 1 its reverse-SDE form); ignored by the
        other samplers.
    quantile_levels : tuple of float, default=(0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
        Default levels of :meth:`predict_quantiles`.
    quantile_method : str, default="linear"
        ``numpy.quantile`` method used on the samples.
    freq : str or None, default=None
        Frequency of a datetime index; inferred when None.
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        Where to train and sample; "auto" takes a GPU when there is one. With
        several GPUs, "auto" and "cuda" train on the first (run ``fit`` under
        ``torchrun`` to train on all) and sample on all of them, windows shared
        out; "cuda:N" keeps to one.
    predict_batch_size : int or "auto", default="auto"
        Window-samples per network call when sampling; halved on GPU out-of-memory.
    random_state : int, RandomState or None, default=None
        Seeds training and sampling; equal seeds give equal results on one device.
    verbose : bool, default=False
        Show progress bars."""

TRAINING_ATTRIBUTES_DOC = """\
    model_ : tsdiff.engine.DiffusionModel
        The fitted model: the network (also ``network_``), its noise process
        (``process_``), the window frame (``window_frame_``) and the training mask
        policy, as fitted; parameters changed since fit are refused at sampling.
    history_ : list of dict
        One record per epoch: optimiser steps so far, training (and validation)
        loss, learning rate at the epoch's end, wall seconds and the device it ran
        on.
    batch_size_ : int
        Training windows per optimiser step (``batch_size`` resolved for the
        device and window size)."""

FEATURE_ATTRIBUTES_DOC = """\
    columns_ : pandas.Index
        Variables seen in fit.
    n_features_in_ : int
        Number of variables seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in fit (only for DataFrames with string column names)."""

LEVELS_AND_FREQ_DOC = """\
    quantile_levels : tuple of float, default=(0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
        Default levels of :meth:`predict_quantiles`.
    freq : str or None, default=None
        Frequency of a datetime index; inferred when None."""
"""The two parameters of the baselines' docstrings that every baseline has."""


def share_docs(doc: str) -> str:
    """Insert the parameters and attributes the diffusion estimators share into a
    class docstring."""
    doc = doc.replace("    <common parameters>\n", COMMON_PARAMETERS_DOC + "\n")
    doc = doc.replace("    <training attributes>\n", TRAINING_ATTRIBUTES_DOC + "\n")
    return doc.replace("    <feature attributes>\n", FEATURE_ATTRIBUTES_DOC + "\n")


def fill_doc(**parts: str):
    """Decorator that fills the ``{fields}`` of a function's docstring from
    ``parts``; a field alone on its line is a block, indented like the field."""

    def decorate(func):
        func.__doc__ = _fill(func.__doc__, parts)
        return func

    return decorate


def _fill(template: str, parts: dict) -> str:
    """Fill the fields of a docstring template; a field alone on its line is a
    block, indented like the field."""
    lines = []
    for line in template.split("\n"):
        name = line.strip()[1:-1]
        if line.strip() != "{" + name + "}" or name not in parts:
            lines.append(line)
        elif parts[name]:  # an empty block drops its line
            indent = line[: len(line) - len(line.lstrip())]
            lines.extend(indent + part for part in parts[name].split("\n"))
    return "\n".join(lines).format(**parts)

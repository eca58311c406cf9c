"""Diffusion families in the estimators: every process with each of its samplers,
the pairing rules, persistence, and the training objective of the SDE processes."""

import numpy as np
import pytest
import torch

from tsdiff import DiffusionForecaster, DiffusionImputer
from tsdiff.diffusion import (
    ALL_SAMPLERS,
    VESDE,
    VPSDE,
    NoiseSchedule,
    SubVPSDE,
    as_eps_predictor,
    eps_loss,
)

CHAIN_SAMPLERS = ["ddpm", "ddim", "dpmpp_2m"]  # need only alpha and sigma: any process
SAMPLERS_OF = {
    "vp": [*CHAIN_SAMPLERS, "euler_maruyama", "pc", "heun"],
    "subvp": [*CHAIN_SAMPLERS, "euler_maruyama", "pc", "heun"],
    "ve": [*CHAIN_SAMPLERS, "euler_maruyama", "pc", "heun", "annealed_langevin"],
}


@pytest.fixture(scope="module")
def fitted(tiny_shared, make_frame):
    """One tiny imputer per continuous process, fitted once."""
    frame = make_frame()
    return frame, {
        process: DiffusionImputer(window_length=16, process=process, **tiny_shared).fit(
            frame
        )
        for process in SAMPLERS_OF
    }


@pytest.mark.parametrize(
    ("process", "sampler"),
    [(p, s) for p, samplers in SAMPLERS_OF.items() for s in samplers],
)
def test_every_process_samples_with_each_of_its_samplers(
    fitted, process, sampler, check_samples
):
    frame, imputers = fitted
    imputer = imputers[process].set_params(sampler=sampler, sampling_steps=3)
    check_samples(imputer.sample(frame, num_samples=4), frame, 4)  # (S, T, K)


def test_continuous_processes_default_to_dpm_solver_with_ten_steps(fitted):
    frame, imputers = fitted
    imputer = imputers["vp"].set_params(sampler=None, sampling_steps=None)
    assert imputer._sampler() == "dpmpp_2m"
    assert imputer._sampling_steps() == 10  # not capped by the chain's length
    assert imputer.n_diffusion_steps < 10
    assert np.isfinite(imputer.transform(frame).to_numpy()).all()


def test_a_sampler_of_another_process_is_refused_at_fit_and_at_predict(tiny, fitted):
    frame, imputers = fitted
    with pytest.raises(ValueError, match="sampler='heun' cannot sample process='ddpm'"):
        DiffusionImputer(window_length=16, sampler="heun", **tiny).fit(frame)
    imputer = imputers["vp"].set_params(sampler="annealed_langevin")
    with pytest.raises(ValueError, match="cannot sample process='vp'"):
        imputer.transform(frame)
    imputer.set_params(sampler=None)


def test_sampling_steps_beyond_the_chain_only_limit_ddpm(tiny, fitted):
    frame, imputers = fitted
    with pytest.raises(ValueError, match="at most n_diffusion_steps"):
        DiffusionImputer(window_length=16, sampling_steps=99, **tiny).fit(frame)
    imputer = imputers["ve"].set_params(sampler="heun", sampling_steps=99)
    assert np.isfinite(imputer.sample(frame.iloc[:20], num_samples=2)).all()
    imputer.set_params(sampler=None, sampling_steps=None)


def test_save_and_load_keep_the_process(fitted, tmp_path):
    frame, imputers = fitted
    imputer = imputers["ve"].set_params(sampler="pc", sampling_steps=3)
    imputer.save(tmp_path / "model")
    loaded = DiffusionImputer.load(tmp_path / "model", device="cpu")
    assert isinstance(loaded.process_, VESDE)
    np.testing.assert_array_equal(
        loaded.sample(frame, num_samples=3, random_state=5),
        imputer.sample(frame, num_samples=3, random_state=5),
    )


def test_forecaster_trains_and_forecasts_with_an_sde(tiny, frame):
    forecaster = DiffusionForecaster(
        context_length=16, process="subvp", sampler="heun", sampling_steps=3, **tiny
    )
    forecaster.fit(frame.ffill().bfill())
    quantiles = forecaster.predict_quantiles(fh=[1, 2, 3])
    assert quantiles.shape[0] == 3 and np.isfinite(quantiles.to_numpy()).all()


# ---------------------------------------------------------- the objective


@pytest.mark.parametrize(
    "process",
    [NoiseSchedule.from_name("quad", 50), VPSDE(), SubVPSDE(), VESDE()],
    ids=["ddpm", "vp", "subvp", "ve"],
)
def test_loss_is_zero_for_a_denoiser_that_knows_the_noise(process):
    # A denoiser told x0 recovers eps = (x_t - alpha x0) / sigma exactly, so the
    # loss vanishes; it also records the drawn times, which must be in range.
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(64, 2, 5, generator=g, dtype=torch.float64)
    seen = []

    def knows_x0(x_t, t):
        seen.append(t)
        alpha, sigma = process.scales(t, x_t)
        return (x_t - alpha * x0) / sigma

    target = torch.rand(64, 2, 5, generator=g) < 0.5
    loss = eps_loss(knows_x0, process, x0, target, generator=g)
    assert loss.item() < 1e-10
    (t,) = seen
    if isinstance(process, NoiseSchedule):
        assert t.dtype == torch.long and int(t.min()) >= 0 and int(t.max()) < 50
    else:
        assert t.is_floating_point() and process.t_min <= float(t.min())
        assert float(t.max()) <= 1.0 and float(t.std()) > 0.2  # spread over [t_min, 1]


@pytest.mark.parametrize("process", [VPSDE(), SubVPSDE(), VESDE()])
def test_v_readout_of_an_sde_recovers_the_noise_from_the_true_velocity(process):
    # With r = sqrt(alpha^2 + sigma^2), a network that outputs the normalised
    # velocity v = (alpha eps - sigma x0) / r of its (scaled) input gives eps back.
    g = torch.Generator().manual_seed(1)
    x0 = torch.randn(6, 2, 5, generator=g, dtype=torch.float64)
    eps = torch.randn(6, 2, 5, generator=g, dtype=torch.float64)
    t = torch.linspace(0.05, 1.0, 6, dtype=torch.float64)
    x_t = process.add_noise(x0, t, eps)
    alpha, sigma = process.scales(t, x_t)
    r = (alpha**2 + sigma**2).sqrt()
    inputs = []

    def true_velocity(x_in, t_in):
        inputs.append(x_in)
        return (alpha * eps - sigma * x0) / r

    eps_hat = as_eps_predictor(true_velocity, process, "v")(x_t, t)
    torch.testing.assert_close(eps_hat, eps)
    torch.testing.assert_close(inputs[0], x_t / r)  # the network sees unit scale


def test_every_sampler_is_offered_to_the_continuous_processes():
    assert {s for samplers in SAMPLERS_OF.values() for s in samplers} == set(
        ALL_SAMPLERS
    )


def test_changing_the_process_after_fit_asks_for_a_refit(fitted):
    frame, imputers = fitted
    imputer = imputers["subvp"].set_params(process="ddpm", sampler=None)
    try:
        with pytest.raises(ValueError, match="fitted with another diffusion process"):
            imputer.transform(frame)
    finally:
        imputer.set_params(process="subvp")
    imputed = imputer.set_params(sampling_steps=2).transform(frame)
    assert np.isfinite(imputed.to_numpy()).all()


@pytest.mark.parametrize("n_steps", [5, 20])
def test_the_chain_defaults_to_dpm_solver_with_ten_steps_or_the_whole_chain(
    tiny, make_frame, n_steps
):
    frame = make_frame(n_steps=48)
    params = dict(tiny, window_length=16, n_diffusion_steps=n_steps, n_epochs=1)
    default = DiffusionImputer(**params).fit(frame)
    explicit = DiffusionImputer(
        **params, sampler="dpmpp_2m", sampling_steps=min(10, n_steps)
    ).fit(frame)
    ancestral = DiffusionImputer(**params, sampler="ddpm").fit(frame)
    draws = [m.sample(frame, random_state=3) for m in (default, explicit, ancestral)]
    np.testing.assert_array_equal(draws[0], draws[1])
    gaps = frame.isna().to_numpy()
    assert np.abs(draws[0] - draws[2])[:, gaps].max() > 1e-3
    # 10 steps are fewer than the 20-step chain: a different walk than all of it.
    every = DiffusionImputer(**params, sampler="dpmpp_2m", sampling_steps=n_steps)
    walked_all = every.fit(frame).sample(frame, random_state=3)
    assert np.array_equal(draws[0], walked_all) == (n_steps <= 10)


def test_eta_makes_dpm_solver_stochastic_after_fit(tiny, make_frame):
    frame = make_frame(n_steps=48)
    imputer = DiffusionImputer(**dict(tiny, window_length=16, n_epochs=1)).fit(frame)
    ode = imputer.sample(frame, random_state=2)
    sde = imputer.set_params(eta=1.0).sample(frame, random_state=2)
    gaps = frame.isna().to_numpy()
    assert np.abs(ode - sde)[:, gaps].max() > 1e-3
    np.testing.assert_array_equal(ode[:, ~gaps], sde[:, ~gaps])

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _hypothesis_profiles():
    """Locally hypothesis explores new examples on every run; in CI (CI=true) it replays a fixed
    sequence, so a submission's result does not depend on the draw."""
    import os

    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, database=None)
    if os.environ.get("CI"):
        settings.load_profile("ci")


_hypothesis_profiles()

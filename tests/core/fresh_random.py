"""Random state as a fresh process would have it, for resume tests that run in one process."""

import random

import numpy as np
import torch

UNRELATED_SEED = 2_718_281_828


def scramble_global_random_state() -> None:
    """Set every global generator (Python's, NumPy's, torch's CPU and CUDA ones) to values unrelated
    to any run's.

    A resume in the same process as the run it continues would otherwise find the random state where
    that run left it, and pass even if the checkpoint's random state were never restored. The data
    loader's own generator is built anew, from the run's seed, by each trainer.
    """
    random.seed(UNRELATED_SEED)
    np.random.seed(UNRELATED_SEED % 2**32)
    torch.manual_seed(UNRELATED_SEED)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(UNRELATED_SEED)

"""Small real image data sets that work offline (what torchvision.datasets is to PyTorch)."""
from __future__ import annotations

import numpy as np

from ...factories import from_numpy
from .dataset import Dataset


class Digits(Dataset):
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes), upsampled to
    `size` x `size` with `channels` identical channels and normalised to [-1, 1], so the CIFAR-10
    tutorial's 3x32x32 classifier runs on real images without a download.

    The split is fixed by `seed`: `test_fraction` of each class is held out for train=False.
    """

    classes = tuple(str(d) for d in range(10))

    def __init__(self, train: bool = True, size: int = 32, channels: int = 3,
                 test_fraction: float = 0.2, seed: int = 0):
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise ImportError("the Digits data set comes with scikit-learn: pip install scikit-learn") from None
        data = load_digits()
        images = data.images.astype(np.float32) / 16.0 * 2.0 - 1.0
        factor, rest = divmod(size, 8)
        if rest:
            raise ValueError(f"size must be a multiple of 8, got {size}")
        images = np.kron(images, np.ones((factor, factor), np.float32))
        images = np.repeat(images[:, None], channels, axis=1)
        order = np.random.default_rng(seed).permutation(len(images))
        n_test = int(len(images) * test_fraction)
        keep = order[n_test:] if train else order[:n_test]
        self.images = np.ascontiguousarray(images[keep])
        self.targets = data.target[keep].astype(np.int64)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i):
        return from_numpy(self.images[i]), int(self.targets[i])

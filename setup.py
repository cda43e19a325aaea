"""Installs tfgan_stable: GAN training for Keras 3 on TensorFlow."""
from setuptools import find_packages, setup

setup(
    name="tfgan_stable",
    version="0.1.0",
    description=(
        "keras.Model subclasses for every GAN loss family, composable "
        "stabilisation techniques, distribution-safe layers and SavedModel export."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["tfgan_stable", "tfgan_stable.*"]),
    package_data={"tfgan_stable": ["metrics/weights/*", "data/checksums.tsv"]},
    install_requires=[
        # The CPU-only wheel (~250 MB) instead of `tensorflow` (~570 MB, CUDA
        # libraries included): CI and the reference machines have no GPU.
        # GPU users install `tensorflow[and-cuda]` alongside; both provide the
        # same `tensorflow` module.
        "tensorflow-cpu>=2.21,<2.22",
        "keras>=3.10,<4",
        # Keras' TensorBoard callback writes its scalars through it; tensorflow-cpu 2.21 does not pull it in.
        "tensorboard>=2.21,<2.22",
        "tensorflow-datasets>=4.9.7,<5",
        # TFDS 4.9 imports it but does not declare it.
        "importlib_resources>=6",
        "numpy>=1.26,<3",
        "absl-py>=2.1",
        "pillow>=10",
    ],
    extras_require={
        "test": ["pytest>=8", "pytest-xdist>=3", "scipy>=1.11"],
    },
)

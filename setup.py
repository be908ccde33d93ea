"""flan_jax: Flan-style instruction finetuning on JAX.

The task catalog lives in the top-level `tasks/` folder and installs as the
`flan_jax_tasks` package, so `import flan_jax_tasks` works from anywhere.
"""

import setuptools

# Ranges known to work together (tested on Python 3.11 and 3.12, CPU).
INSTALL_REQUIRES = [
    "jax>=0.10.0,<0.11",
    "flax>=0.12.8,<0.13",
    "optax>=0.2.8,<0.3",
    "orbax-checkpoint>=0.12.8,<0.13",
    "seqio==0.0.20",
    "tensorflow>=2.21,<2.22",
    "tensorflow-text>=2.21,<2.22",
    "tensorflow-datasets>=4.9.10,<5",
    "tensorboard>=2.20,<3",
    "clu==0.0.12",
    "gin-config==0.5.0",
    # 0.2.3's generated protobuf code needs protobuf 7, which apache-beam (caching) does
    # not allow yet; 0.2.2 works with both.
    "sentencepiece>=0.2.0,<0.2.3",
    "numpy>=2.0,<3",
    "importlib_resources>=6",  # tensorflow-datasets needs it to prepare datasets.
    "tqdm>=4.66,<5",
]

TEST_REQUIRES = [
    "pytest>=8,<10",
    "hypothesis>=6.100,<7",
    "torch==2.13.0",
    "transformers>=5.0,<6",
    "safetensors>=0.4,<1",
    "matplotlib>=3.8,<4",  # mixtures stats --plot is drawn for real in the tests.
    "apache-beam[tfrecord]>=2.60,<3",  # flan-jax cache runs in the tests (DirectRunner).
]

# T0-SF reads P3 from the Hugging Face hub (or a local copy made with its `hf download`).
# Its files are read with TensorFlow / pyarrow directly: P3's hub loading script cannot run
# under `datasets` 4, and `datasets` 3 would downgrade the fsspec the rest of the stack uses.
# A checkpoint's tokenizer.json as the task vocabulary (flan_jax/data/hf_vocab.py) reads
# with `tokenizers` (no torch, no transformers).
HF_REQUIRES = ["huggingface_hub>=0.34,<3", "pyarrow>=15", "tokenizers>=0.20,<1"]

# What every `tfds build` command `flan-jax tasks preflight` prints needs (pip install -e
# '.[data]'): the tfds command line imports mlcroissant; Beam-based builders (wiki_dialog)
# run on apache-beam; the community builder huggingface:xsum loads through huggingface_hub
# and datasets.
DATA_REQUIRES = ["apache-beam[tfrecord]>=2.60,<3", "mlcroissant>=1.0.9,<2",
                 "huggingface_hub>=0.34,<3", "datasets>=4,<5"]

setuptools.setup(
    name="flan_jax",
    version="0.1.0",
    description="Flan-style instruction finetuning of T5 / PaLM-style models on JAX.",
    python_requires=">=3.11,<3.13",
    packages=setuptools.find_packages(include=["flan_jax", "flan_jax.*"])
    + ["flan_jax_tasks"] + ["flan_jax_tasks." + p for p in setuptools.find_packages("tasks")],
    package_dir={"flan_jax_tasks": "tasks"},
    install_requires=INSTALL_REQUIRES,
    extras_require={
        "test": TEST_REQUIRES + HF_REQUIRES,
        "hf": HF_REQUIRES,
        "data": DATA_REQUIRES,
        "cache": ["apache-beam[tfrecord]>=2.60,<3"],
        "plot": ["matplotlib>=3.8,<4"],
    },
    entry_points={"console_scripts": ["flan-jax=flan_jax.cli.main:entry"]},
)

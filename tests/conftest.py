import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))  # for tests/helpers.py

# One thread per test process: the tests' networks are tiny, and several threads per process
# (with pytest-xdist's workers, or other programs beside them) wait on each other and can make a
# test tens of times slower; one thread also gives the same numbers on every machine.
torch.set_num_threads(1)

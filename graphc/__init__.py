"""graphc: PyTorch-shaped tensors and autograd that record into a static graph and compile.

``import graphc as torch`` runs tutorial code eagerly on NumPy.
"""
from . import _malloc

_malloc.tune()  # before any array is made: see graphc/_malloc.py

from . import dtypes as _dtypes  # noqa: E402
from .dtypes import (bool_ as bool, dtype, float16, float32, float64, get_default_dtype, int8,
                     int16, int32, int64, set_default_dtype, uint8, uint16, uint32, uint64)
from .size import Size
from .device import device
from .tensor import Tensor, bind_methods as _bind_methods
from . import ops as _ops
from .ops.elementwise import *  # noqa: F401,F403
from .ops.reduce import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.index import *  # noqa: F401,F403
from .ops.gather import *  # noqa: F401,F403
from .ops.sort import *  # noqa: F401,F403
from .ops.flip import *  # noqa: F401,F403
from .ops.softmax import *  # noqa: F401,F403
from .ops.scan import *  # noqa: F401,F403
from .ops.contract import *  # noqa: F401,F403
from .ops.arrange import *  # noqa: F401,F403
from .ops.pointwise import *  # noqa: F401,F403
from .factories import (arange, as_tensor, bernoulli, empty, empty_like, eye, from_numpy, full,
                        full_like, linspace, normal, ones, ones_like, rand, rand_like, randint,
                        randint_like, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from . import accelerator, amp, autograd, backends, cuda
from .factories import get_default_device, is_tensor, numel, set_default_device  # noqa: E402
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .errors import GraphcError, ShapeError
from .trace import TracerWarning, trace
from .compile import compile
from .printing import set_printoptions
from .typeinfo import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor,
                       LongTensor, ShortTensor, finfo, iinfo)
from . import ir, runtimes

float = float32
double = float64
half = float16
long = int64
int = int32
short = int16
cfloat = None

__version__ = "0.1.0"

from . import factories as _factories

for _module in (*_ops.load_all(), _factories):
    _bind_methods(_module.METHODS)
del _module

from . import nn, optim, utils  # noqa: E402  (after the methods are bound: they use Tensor methods)
from .serialization import load, save  # noqa: E402

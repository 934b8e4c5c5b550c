"""graphc.nn: modules, parameters, functional forms, initialisation and DataParallel (as torch.nn)."""
from . import functional, init, utils
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .modules.module import RemovableHandle
from .parallel import DataParallel

__all__ = [*_modules_all, "functional", "init", "utils", "DataParallel", "RemovableHandle"]

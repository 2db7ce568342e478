from . import test_end_to_end
from . import test_lifecycle

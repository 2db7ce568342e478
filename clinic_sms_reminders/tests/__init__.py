from . import test_end_to_end
from . import test_lifecycle
from . import test_patient
from . import test_planning
from . import test_security
from . import test_template
from . import test_wallet

from . import main
from . import appointment_link

"""The exception tree every caller of SmartSofar handles.

Lower layers translate pymodbus, httpx and OSError failures into these once, at their boundary, so the
rest of the code never catches a third-party exception::

    SmartSofarError
     ├── InvalidInputError        a value given by a user or a caller is out of range or malformed;
     │                            nothing was sent or changed
     ├── ConfigError              a configuration file or URL is unusable
     ├── NotFoundError            no such unit, or no meter configured
    ├── StorageError             state or history could not be written (disk full, read-only)
     └── DeviceError              something outside the process did not do what we asked
          ├── BusError                        the RS485 line itself
          │    ├── BusUnavailableError         the port cannot be opened / the gateway cannot be reached
          │    ├── NoResponseError             a unit did not answer (after retries)
          │    └── ProtocolError               answers came back but none was a valid reply (after retries)
          └── MeterError                      the grid meter
               ├── MeterUnavailableError       unreachable, timed out, HTTP error
               ├── MeterAuthError              the meter refused our credentials
               └── MeterReplyError             a reply that is not a usable Shelly reading

Programming errors (bugs) are left as the built-in exceptions and are not caught.
"""

from __future__ import annotations


class SmartSofarError(Exception):
    """Base of every error SmartSofar raises on purpose."""


class InvalidInputError(SmartSofarError, ValueError):
    """A value given by a user or a caller is out of range or malformed; nothing was done."""


class ConfigError(SmartSofarError):
    """A configuration file, flag or URL cannot be used."""


class NotFoundError(SmartSofarError, LookupError):
    """What was asked for does not exist here: a unit id that is not configured, a meter when none is."""


class StorageError(SmartSofarError):
    """State or history could not be written; what was asked was not done."""


class DeviceError(SmartSofarError):
    """A device outside the process did not do what was asked."""


class BusError(DeviceError):
    """A failure on an RS485 bus (serial port or RTU-over-TCP gateway)."""


class BusUnavailableError(BusError):
    """The serial port cannot be opened or the gateway cannot be reached."""


class NoResponseError(BusError):
    """A unit did not answer within the timeout, after every retry."""


class ProtocolError(BusError):
    """Frames came back, but none was a valid reply to the request, after every retry."""


class MeterError(DeviceError):
    """A failure reading the grid meter."""


class MeterUnavailableError(MeterError):
    """The meter cannot be reached, timed out or answered with an HTTP error."""


class MeterAuthError(MeterError):
    """The meter refused the configured user name or password."""


class MeterReplyError(MeterError):
    """The meter answered, but not with a usable reading."""

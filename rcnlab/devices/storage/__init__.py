"""External storage (112, 122): sparse volumes, a pair state per volume pair, and
the synchronous or asynchronous remote copy program of each pair; one module per
concern (``state``, ``volume``, ``pair``, ``front``, ``commands``, ``transitions``,
``copy``, ``path``), composed in ``device``."""

from rcnlab.devices.storage.copy import COPY_TICK
from rcnlab.devices.storage.device import ExternalStorage
from rcnlab.devices.storage.pair import CopyJob, StoragePair
from rcnlab.devices.storage.path import NOTIFY_INTERVAL, PATH_TIMEOUT_FLOOR, PATH_TIMEOUT_ROUND_TRIPS
from rcnlab.devices.storage.volume import Volume

__all__ = ["COPY_TICK", "NOTIFY_INTERVAL", "PATH_TIMEOUT_FLOOR", "PATH_TIMEOUT_ROUND_TRIPS", "CopyJob", "ExternalStorage",
           "StoragePair", "Volume"]

"""Signal thresholds by technology, each with its source. All are defaults: override them.

No Indonesian regulation fixes coverage thresholds; these are the values in common planning use.
"""

from __future__ import annotations

#: Weakest signal (dBm, in the technology's metric) counted as usable service.
#: 4G: RSRP -110 dBm, the usual cell-edge planning value (the field's range is -110 to -120 dBm);
#: 3G: RSCP -100 dBm ("poor" below it in drive-test practice); 2G: RxLev -100 dBm, a few dB above the
#: -102 dBm reference sensitivity of a GSM handset (3GPP TS 45.005 §6.2); 5G: SS-RSRP -110 dBm as 4G.
USABLE_DBM: dict[str, float] = {"4g": -110.0, "3g": -100.0, "2g": -100.0, "5g": -110.0, "mixed": -100.0}

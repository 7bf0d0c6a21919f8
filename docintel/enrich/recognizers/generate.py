"""Valid and deliberately invalid UK identifiers, for recognizer tests, benchmarks and sample documents.

Valid ones come from :mod:`docintel.synthetic`; the invalid ones differ from a valid value in exactly the
property a recognizer must check (a check digit, a prefix letter), so a match on them is a real bug.
"""

from __future__ import annotations

import random

from docintel import synthetic
from docintel.enrich.recognizers import checksums

nhs_number = synthetic.nhs_number
nino = synthetic.nino
vat_number = synthetic.vat_number


def invalid_nhs_number(rng: random.Random) -> str:
    """An NHS-shaped number whose check digit is wrong."""
    valid = synthetic.nhs_number(rng).replace(" ", "")
    wrong = (int(valid[9]) + rng.randint(1, 9)) % 10
    candidate = f"{valid[:9]}{wrong}"
    return f"{candidate[:3]} {candidate[3:6]} {candidate[6:]}"


def invalid_nino(rng: random.Random) -> str:
    """A NINO-shaped string with a prefix HMRC never issues (bad letter, O second, or an excluded pair)."""
    valid = synthetic.nino(rng)
    bad_prefix = rng.choice(["D" + valid[1], valid[0] + "O", "QQ", "BG", "GB", "NK", "TN", "ZZ", "FY", valid[0] + "V"])
    return bad_prefix + valid[2:]


def invalid_vat_number(rng: random.Random) -> str:
    """A "GB" + 9 digit string whose check digits fail both the mod-97 and the 9755 scheme."""
    while True:
        first_seven = "".join(rng.choice("0123456789") for _ in range(7))
        good = {
            synthetic.vat_check_digits(first_seven, scheme_9755=False),
            synthetic.vat_check_digits(first_seven, scheme_9755=True),
        }
        check = rng.choice([c for c in range(100) if c not in good])
        candidate = f"GB{first_seven}{check:02d}"
        if not checksums.vat_is_valid(candidate):
            return candidate

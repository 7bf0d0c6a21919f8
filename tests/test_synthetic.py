"""Generated fake identities must be well-formed, checksum-valid and reproducible from a seed."""

from __future__ import annotations

import datetime as dt
import random
import re

import phonenumbers
import pytest

from docintel import synthetic

SEEDS = range(200)

# Royal Mail format, written independently of the generator.
POSTCODE_RE = re.compile(
    r"^(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]) [0-9][ABD-HJLNP-UW-Z]{2}$"
)


def _nhs_is_valid(number: str) -> bool:
    digits = number.replace(" ", "")
    if not re.fullmatch(r"\d{10}", digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return check != 10 and check == int(digits[9])


def _vat_is_valid(number: str) -> bool:
    digits = number.removeprefix("GB")
    if not re.fullmatch(r"\d{9}", digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:7], range(8, 1, -1), strict=True)) + int(digits[7:])
    return total % 97 == 0 or (total + 55) % 97 == 0


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("943 476 5919", True),  # the NHS's own published example
        ("401 023 2137", True),
        ("943 476 5918", False),  # wrong check digit
        ("943 476 591", False),  # too short
    ],
)
def test_reference_nhs_validator_table(number: str, valid: bool) -> None:
    assert _nhs_is_valid(number) is valid


@pytest.mark.parametrize(("number", "valid"), [("GB980780684", True), ("GB980780685", False), ("GB12345", False)])
def test_reference_vat_validator_table(number: str, valid: bool) -> None:
    assert _vat_is_valid(number) is valid


def test_nhs_numbers_are_mod11_valid_and_formatted() -> None:
    for seed in SEEDS:
        number = synthetic.nhs_number(random.Random(seed))
        assert re.fullmatch(r"\d{3} \d{3} \d{4}", number)
        assert number.startswith(synthetic.NHS_TEST_PREFIX)
        assert _nhs_is_valid(number), number


def test_nhs_numbers_outside_test_range_are_valid() -> None:
    numbers = {synthetic.nhs_number(random.Random(seed), test_range=False) for seed in SEEDS}
    assert all(_nhs_is_valid(n) for n in numbers)
    assert all(n[0] in "4567" for n in numbers)


@pytest.mark.parametrize(
    ("first_nine", "check"),
    [
        ("000000000", 0),  # remainder 0 -> 11 -> 0
        ("000000001", 9),  # 1 * 2 = 2 -> 11 - 2
        ("943476591", 9),
        ("000000006", None),  # 6 * 2 = 12 -> remainder 1 -> 10, never issued
    ],
)
def test_nhs_check_digit_table(first_nine: str, check: int | None) -> None:
    assert synthetic.nhs_check_digit(first_nine) == check


def test_ninos_follow_hmrc_rules() -> None:
    for seed in SEEDS:
        value = synthetic.nino(random.Random(seed))
        assert re.fullmatch(r"[A-Z]{2} \d{2} \d{2} \d{2} [A-D]", value), value
        prefix = value[:2]
        assert not set(prefix) & set("DFIQUV")
        assert prefix[1] != "O"
        assert prefix not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def test_vat_numbers_pass_the_check() -> None:
    for seed in SEEDS:
        value = synthetic.vat_number(random.Random(seed))
        assert _vat_is_valid(value), value


@pytest.mark.parametrize("scheme_9755", [False, True])
def test_vat_check_digits_by_scheme(scheme_9755: bool) -> None:
    digits = "1234567"
    check = synthetic.vat_check_digits(digits, scheme_9755=scheme_9755)
    total = sum(int(d) * w for d, w in zip(digits, range(8, 1, -1), strict=True)) + check
    assert (total + (55 if scheme_9755 else 0)) % 97 == 0


def test_sort_codes_and_accounts() -> None:
    for seed in SEEDS:
        rng = random.Random(seed)
        assert re.fullmatch(r"\d{2}-\d{2}-\d{2}", synthetic.sort_code(rng))
        assert re.fullmatch(r"\d{8}", synthetic.bank_account(rng))


@pytest.mark.parametrize("generator", [synthetic.uk_mobile, synthetic.uk_landline])
def test_phone_numbers_are_valid_gb_numbers(generator: object) -> None:
    for seed in SEEDS:
        value = generator(random.Random(seed))  # type: ignore[operator]
        parsed = phonenumbers.parse(value, "GB")
        assert phonenumbers.is_valid_number(parsed), value
        assert phonenumbers.region_code_for_number(parsed) == "GB"


def test_mobiles_avoid_the_drama_block_libphonenumber_rejects() -> None:
    for seed in SEEDS:
        value = synthetic.uk_mobile(random.Random(seed))
        assert value.startswith("07700 ")
        assert int(value[6:]) not in synthetic.MOBILE_DRAMA_BLOCK


def test_postcodes_have_valid_format() -> None:
    for seed in SEEDS:
        value = synthetic.postcode(random.Random(seed))
        assert POSTCODE_RE.match(value), value


def test_names_and_emails() -> None:
    rng = random.Random(7)
    name = synthetic.person_name(rng)
    first, last = name.split(" ", 1)
    assert first in synthetic.FIRST_NAMES
    assert last in synthetic.LAST_NAMES
    assert synthetic.email_for("Sinead O'Brien") == "sinead.obrien@example.org"
    email = synthetic.email_for(name, rng)
    assert re.fullmatch(r"[a-z]+\.[a-z]+@[a-z.]+", email)
    assert email.split("@")[1] in synthetic.EMAIL_DOMAINS


def test_dates_of_birth_in_range() -> None:
    for seed in SEEDS:
        born = synthetic.date_of_birth(random.Random(seed))
        assert dt.date(1930, 1, 1) <= born <= dt.date(2010, 12, 31)


@pytest.mark.parametrize(
    "generator",
    [
        synthetic.nhs_number,
        synthetic.nino,
        synthetic.vat_number,
        synthetic.sort_code,
        synthetic.bank_account,
        synthetic.uk_mobile,
        synthetic.uk_landline,
        synthetic.postcode,
        synthetic.person_name,
        synthetic.date_of_birth,
    ],
)
def test_same_seed_same_output(generator: object) -> None:
    first = [generator(random.Random(s)) for s in range(20)]  # type: ignore[operator]
    second = [generator(random.Random(s)) for s in range(20)]  # type: ignore[operator]
    assert first == second
    assert len(set(map(str, first))) > 5  # and different seeds give different people

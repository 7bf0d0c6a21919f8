"""UK personal-data recognizers and the registry that builds them by entity name from ``config/pii.yaml``.

Each entry maps an entity type to a factory taking the configured context words and base score. Only
the entities listed (and enabled) in the YAML load: Presidio's US recognizers are never registered.
"""

from __future__ import annotations

from collections.abc import Callable

from presidio_analyzer import EntityRecognizer
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, IbanRecognizer

from docintel.enrich.recognizers.address import StreetAddressRecognizer
from docintel.enrich.recognizers.generic import OfflineEmailRecognizer, UkPhoneRecognizer
from docintel.enrich.recognizers.person import UkPersonRecognizer
from docintel.enrich.recognizers.uk import (
    UkBankAccountRecognizer,
    UkDateOfBirthRecognizer,
    UkDrivingLicenceRecognizer,
    UkNhsNumberRecognizer,
    UkNinoRecognizer,
    UkPassportRecognizer,
    UkPostcodeRecognizer,
    UkSortCodeRecognizer,
    UkUtrRecognizer,
    UkVatNumberRecognizer,
    UkVehicleRegistrationRecognizer,
)
from docintel.errors import ConfigError

RecognizerFactory = Callable[[list[str] | None, float | None], EntityRecognizer]


def _person(context: list[str] | None, score: float | None) -> EntityRecognizer:
    # Names come from the shared spaCy parse (filtered) and honorific rules; no second parse.
    return UkPersonRecognizer(score=score if score is not None else 0.85)


def _phone(context: list[str] | None, score: float | None) -> EntityRecognizer:
    return UkPhoneRecognizer(context=context, score=score if score is not None else 0.5)


RECOGNIZERS: dict[str, RecognizerFactory] = {
    "UK_NHS": lambda context, _score: UkNhsNumberRecognizer(context=context),
    "UK_NINO": lambda context, _score: UkNinoRecognizer(context=context),
    "UK_POSTCODE": lambda context, _score: UkPostcodeRecognizer(context=context),
    "UK_SORT_CODE": lambda context, _score: UkSortCodeRecognizer(context=context),
    "UK_BANK_ACCOUNT": lambda context, _score: UkBankAccountRecognizer(context=context),
    "UK_VAT": lambda context, _score: UkVatNumberRecognizer(context=context),
    "UK_PASSPORT": lambda context, _score: UkPassportRecognizer(context=context),
    "UK_DRIVING_LICENCE": lambda context, _score: UkDrivingLicenceRecognizer(context=context),
    "UK_UTR": lambda context, _score: UkUtrRecognizer(context=context),
    "UK_VEHICLE_REGISTRATION": lambda context, _score: UkVehicleRegistrationRecognizer(context=context),
    "DATE_OF_BIRTH": lambda context, _score: UkDateOfBirthRecognizer(context=context),
    "PHONE_NUMBER": _phone,
    "STREET_ADDRESS": lambda context, _score: StreetAddressRecognizer(context=context),
    "EMAIL_ADDRESS": lambda context, _score: OfflineEmailRecognizer(context=context),
    "IBAN_CODE": lambda context, _score: IbanRecognizer(context=context or list(IbanRecognizer.CONTEXT)),
    "CREDIT_CARD": lambda context, _score: CreditCardRecognizer(context=context),
    "PERSON": _person,
}


def build_recognizer(
    entity: str,
    context: list[str] | None = None,
    score: float | None = None,
    score_threshold: float | None = None,
) -> EntityRecognizer:
    """One recognizer for ``entity``; unknown names raise a ConfigError listing the known ones."""
    factory = RECOGNIZERS.get(entity)
    if factory is None:
        raise ConfigError(f"unknown PII recognizer {entity!r}; known: {', '.join(sorted(RECOGNIZERS))}")
    recognizer = factory(context, score)
    if score_threshold is not None:
        recognizer.score_thresholds = {"default": score_threshold}
    return recognizer

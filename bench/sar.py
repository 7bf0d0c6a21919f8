"""Subject access cases: documents found per subject, wrong attributions, and time of a request at scale.

    .venv/bin/python -m bench.sar                       # accuracy on ~300 generated documents + 100k-row timing
    .venv/bin/python -m bench.sar --subjects 10 --scale 0   # quick look, no scale part

All data is GENERATED (no evaldata is used: no real council documents with planted subjects exist), so these
figures say how the case search behaves on documents written the way the generator writes them, not on real ones.

Accuracy: a generated council tenant of short letters, case notes, referrals, e-mails and meeting notes is written
to a folder and scanned by docintel's real pipeline (spaCy + Presidio with the UK recognizers, keyed hashes). Each
planted subject has documents naming them in several forms ("Mrs Olivia Smith", "Smith, Olivia", "O. Smith", a
nickname) with their date of birth, NHS number, postcode or e-mail, and one or two name-only mentions. Each subject
has a look-alike: the same name, another date of birth, NHS number and postcode, with documents of their own.
Third parties appear throughout. A case is opened per subject (name, date of birth, NHS number, postcode, e-mail)
and searched. Per subject:

- recall (listed): the subject's documents the case lists at all (strong, weak or conflict);
- recall (strong): of those, listed as strong (attributed without reading);
- wrong (strong): documents listed strong that are not the subject's, as a share of the strong list: the wrong
  attributions after disambiguation;
- look-alike docs strong: the look-alike's documents wrongly attributed.

Baseline in the same run: ``docintel find`` as it was before cases (``find_documents`` with ``require_all=False``:
any of the identifiers, the name exactly as given, no variants, no disambiguation), every document it returns
taken as attributed.

Scale: a catalogue of ``--scale`` document rows (default 100,000) with findings (random keyed hashes: five to
fifteen per document, names, dates of birth, NHS numbers, postcodes, e-mails) is GENERATED DIRECTLY AS ROWS, not by
processing documents (scanning 100,000 documents takes hours on two cores); 40 documents per subject are planted.
The time of ``search_case`` (lookups, ranking, storing the found documents) is the median of three runs on SQLite,
and on PostgreSQL when ``--postgres URL`` is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select

from docintel.catalogue import tables as t
from docintel.catalogue.store import CatalogueStore, open_catalogue
from docintel.enrich.hashing import bind_pii_key, pii_hash
from docintel.enrich.name_variants import nicknames
from docintel.pipeline import Engines, scan_source
from docintel.sar.cases import open_case, search_case
from docintel.sar.identifiers import date_forms
from docintel.settings import load_settings
from docintel.sources.local import LocalFolderSource
from docintel.subject_access import find_documents
from docintel.synthetic import nhs_number

KEY = b"bench-sar-key-0123456789abcdefghij"
CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
GIVEN = [
    "Olivia",
    "James",
    "Margaret",
    "Thomas",
    "Elizabeth",
    "Michael",
    "Rebecca",
    "William",
    "Catherine",
    "Daniel",
    "Samantha",
    "Robert",
    "Victoria",
    "Andrew",
    "Eleanor",
    "Patrick",
    "Charlotte",
    "Henry",
    "Isabel",
    "Richard",
]
SURNAMES = [
    "Smith",
    "Hughes",
    "Patel",
    "Walker",
    "Okafor",
    "Brennan",
    "Kowalski",
    "Davies",
    "Ahmed",
    "Thornton",
    "Fletcher",
    "Nowak",
    "Campbell",
    "Bennett",
    "Morgan",
    "Lloyd",
    "Khan",
    "Harding",
    "Shaw",
    "Ellis",
]
OTHERS = [
    "Samuel Jones",
    "Priya Sharma",
    "Gareth Evans",
    "Helen Marsh",
    "Tariq Hussain",
    "Fiona Reid",
    "Kevin O'Neill",
    "Agnieszka Zielinska",
    "Martin Cole",
    "Joanne Pike",
]
STREETS = ["Acacia Avenue", "Mill Lane", "Station Road", "Church Street", "Park View", "Orchard Close"]
POSTCODES = [
    "LS6 2AB",
    "LS8 3QT",
    "BD7 1DP",
    "HX1 5ER",
    "WF1 2DN",
    "YO1 7HH",
    "HG1 2RL",
    "LS12 4PE",
    "BD18 3LA",
    "WF10 4NZ",
    "LS17 6HJ",
    "HD1 2SS",
    "LS28 9DE",
    "BD1 4QW",
    "WF3 1AB",
    "LS25 1HQ",
    "HX3 8RT",
    "YO10 5DD",
    "HG5 0AA",
    "LS29 8AB",
    "S70 2TA",
    "DN1 3BU",
    "S1 2HH",
    "LS1 6AS",
]


@dataclass
class Person:
    """A generated person: name, date of birth, NHS number, postcode, e-mail."""

    given: str
    surname: str
    born: dt.date
    nhs: str
    postcode: str
    email: str
    street: str

    @property
    def name(self) -> str:
        return f"{self.given} {self.surname}"


@dataclass
class Tenant:
    """The generated documents and who each is about."""

    subjects: list[Person] = field(default_factory=list)
    lookalikes: list[Person] = field(default_factory=list)
    about: dict[str, str] = field(default_factory=dict)  # file name -> "subject:i" / "lookalike:i" / "other"


def _person(rng: random.Random, given: str, surname: str, postcode: str, domain: str) -> Person:
    born = dt.date(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28))
    return Person(
        given,
        surname,
        born,
        nhs_number(rng).replace(" ", ""),
        postcode,
        f"{given.lower()}.{surname.lower()}{rng.randint(1, 99)}@{domain}",
        f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
    )


def _dob(person: Person, rng: random.Random) -> str:
    return rng.choice([person.born.strftime("%d/%m/%Y"), f"{person.born.day} {person.born:%B %Y}"])


def _spaced_nhs(nhs: str) -> str:
    return f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"


def subject_documents(person: Person, rng: random.Random) -> list[str]:
    """Documents about a planted person, naming them in several forms with a detail or two each."""
    other = rng.choice(OTHERS)
    nick = sorted(nicknames(person.given))
    informal = f"{nick[0].title()} {person.surname}" if nick else person.name
    return [
        f"Northshire County Council\nHousing Services\n\nDear Mrs {person.name},\n\nWe hold your date of birth as "
        f"{_dob(person, rng)} and your postcode as {person.postcode}. Your neighbour {other} reported the repair.\n",
        f"Case note\n\nClient: {person.surname}, {person.given}\nNHS number: {_spaced_nhs(person.nhs)}\n"
        f"Seen at home with support worker {other}.\n",
        f"Referral form\n\nPatient name: {person.name}\nDate of birth: {_dob(person, rng)}\n"
        f"NHS No: {person.nhs}\nReferred by {other}.\n",
        f"From: {person.email}\nTo: housing@northshire.example.gov.uk\nSubject: repairs\n\nHello, this is "
        f"{informal}. The boiler is broken again.\n",
        f"Tenancy agreement\n\nTenant: {person.given[0]}. {person.surname}\nAddress: {person.street}, Leeds "
        f"{person.postcode}\nDate of birth: {_dob(person, rng)}\n",
        f"Council tax account\n\nAccount holder: Mr or Mrs {person.name}\nEmail {person.email}\n",
        f"Tenants meeting notes\n\nPresent: {person.name}, {other} and three other residents.\n",
    ]


def lookalike_documents(person: Person, rng: random.Random) -> list[str]:
    """Documents about someone with a subject's name but another date of birth, NHS number and postcode."""
    return [
        f"Adult Social Care referral\n\nClient: {person.name}\nDate of birth: {_dob(person, rng)}\n"
        f"NHS number: {_spaced_nhs(person.nhs)}\n",
        f"Blue badge application\n\nApplicant: {person.name}\nDOB: {_dob(person, rng)}\nPostcode: {person.postcode}\n",
        f"Library membership\n\nMember: {person.name}\nEmail: {person.email}\n",
        f"Allotment waiting list\n\nName: {person.name}\n",
    ]


def generate_tenant(folder: Path, subjects: int, seed: int) -> Tenant:
    """Write the generated tenant's documents into ``folder``; who each is about."""
    rng = random.Random(seed)
    tenant = Tenant()
    for index in range(subjects):
        given, surname = GIVEN[index % len(GIVEN)], SURNAMES[(index * 7) % len(SURNAMES)]
        # Look-alikes' e-mails are at another domain: two people never share an address.
        subject = _person(rng, given, surname, POSTCODES[index % len(POSTCODES)], "example.org")
        lookalike = _person(rng, given, surname, POSTCODES[(index + 11) % len(POSTCODES)], "example.net")
        tenant.subjects.append(subject)
        tenant.lookalikes.append(lookalike)
        for kind, texts in (
            ("subject", subject_documents(subject, rng)),
            ("lookalike", lookalike_documents(lookalike, rng)),
        ):
            for number, text in enumerate(texts):
                name = f"{kind}-{index:03d}-{number}.txt"
                (folder / name).write_text(text, encoding="utf-8")
                tenant.about[name] = f"{kind}:{index}"
    for number in range(subjects * 2):
        other = rng.choice(OTHERS)
        text = f"Parking permit\n\nApplicant: {other}\nPostcode: {rng.choice(POSTCODES)}\n"
        (folder / f"other-{number:03d}.txt").write_text(text, encoding="utf-8")
        tenant.about[f"other-{number:03d}.txt"] = "other"
    return tenant


def accuracy(subjects: int, seed: int, verbose: bool = False) -> None:
    settings = load_settings(CONFIG_DIR, environ={})
    with tempfile.TemporaryDirectory(prefix="bench-sar-") as work:
        folder = Path(work) / "tenant"
        folder.mkdir()
        tenant = generate_tenant(folder, subjects, seed)
        store = open_catalogue(f"sqlite:///{Path(work) / 'catalogue.db'}")
        started = time.perf_counter()
        scan_source(LocalFolderSource([folder]), store, Engines(settings=settings, pii_key=KEY))
        scanned = time.perf_counter() - started
        names = {row["id"]: row["name"] for row in store.iter_documents()}
        print(
            f"generated tenant: {len(names)} documents scanned in {scanned:.0f} s "
            f"({subjects} subjects, {subjects} look-alikes, third parties)\n"
        )
        rows = {"docintel sar (strong)": [0, 0, 0, 0, 0], "baseline find --any": [0, 0, 0, 0, 0]}
        listed_hits = 0
        planted_total = 0
        for index, subject in enumerate(tenant.subjects):
            mine = {name for name, about in tenant.about.items() if about == f"subject:{index}"}
            theirs = {name for name, about in tenant.about.items() if about == f"lookalike:{index}"}
            planted_total += len(mine)
            case_id = open_case(
                store,
                KEY,
                {
                    "name": [subject.name],
                    "date_of_birth": [subject.born.isoformat()],
                    "nhs_number": [subject.nhs],
                    "postcode": [subject.postcode],
                    "email": [subject.email],
                },
                received_on=dt.date(2026, 1, 5),
                handler="bench",
                user="bench",
            )
            found = search_case(store, case_id, "bench")
            listed = {names[tie.document_id] for tie in found}
            strong = {names[tie.document_id] for tie in found if tie.tie == "strong"}
            listed_hits += len(listed & mine)
            if verbose:  # generated people only: nothing real is printed
                ties = {names[tie.document_id]: f"{tie.tie} ({'; '.join(tie.reasons())})" for tie in found}
                for name in sorted((mine - strong) | (strong - mine)):
                    print(f"  {case_id} {name}: {ties.get(name, 'not found')}")
            baseline = {
                names[m.document_id]
                for m in find_documents(
                    store,
                    name=subject.name,
                    nhs_number=subject.nhs,
                    email=subject.email,
                    postcode=subject.postcode,
                    key=KEY,
                    require_all=False,
                    searched_by="bench",
                )
            }
            for label, attributed in (("docintel sar (strong)", strong), ("baseline find --any", baseline)):
                row = rows[label]
                row[0] += len(attributed & mine)
                row[1] += len(attributed - mine)
                row[2] += len(attributed)
                row[3] += len(attributed & theirs)
                row[4] += len(theirs)
        print(
            f"recall (listed: strong, weak or conflict): {listed_hits}/{planted_total} = "
            f"{listed_hits / planted_total:.3f}\n"
        )
        print(f"{'attributed by':<24} {'recall':>8} {'wrong':>8} {'look-alike docs attributed':>28}")
        for label, (hits, wrong, total, lookalike_hits, lookalike_total) in rows.items():
            print(
                f"{label:<24} {hits / planted_total:>8.3f} {wrong / max(total, 1):>8.3f} "
                f"{lookalike_hits:>14}/{lookalike_total}"
            )
        store.close()


def populate(store: CatalogueStore, documents: int, subjects: list[tuple[str, str, str]], seed: int) -> None:
    """``documents`` generated rows with random findings; 40 documents per subject carry the subject's hashes."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    kinds = ["PERSON", "PERSON", "PERSON", "DATE_OF_BIRTH", "UK_NHS", "UK_POSTCODE", "EMAIL_ADDRESS", "PHONE_NUMBER"]
    batch_docs, batch_findings = [], []
    planted = {rng.randrange(documents): subject for subject in subjects for _ in range(40)}

    def flush() -> None:
        with store.transaction("bench populate", write=True) as connection:
            if batch_docs:
                connection.execute(insert(t.documents), batch_docs)
            if batch_findings:
                connection.execute(insert(t.pii_findings), batch_findings)
        batch_docs.clear()
        batch_findings.clear()

    for number in range(documents):
        doc_id = f"bench-{number:07d}"
        batch_docs.append(
            {
                "id": doc_id,
                "source": "local",
                "locator": doc_id,
                "name": f"{doc_id}.txt",
                "path": "",
                "status": "ok",
                "first_seen_at": now,
                "processed_at": now,
                "deleted": False,
                "page_count": 1,
                "text_chars": 1000,
                "depth": 0,
            }
        )
        for _ in range(rng.randint(5, 15)):
            kind = rng.choice(kinds)
            batch_findings.append(
                {
                    "document_id": doc_id,
                    "entity_type": kind,
                    "start": 0,
                    "end": 5,
                    "score": 0.9,
                    "value_hash": pii_hash(kind, f"value-{rng.randrange(documents * 3)}", KEY),
                }
            )
        if number in planted:
            name, born, nhs = planted[number]
            batch_findings.append(
                {
                    "document_id": doc_id,
                    "entity_type": "PERSON",
                    "start": 0,
                    "end": 5,
                    "score": 0.9,
                    "value_hash": pii_hash("PERSON", name, KEY),
                }
            )
            extra = rng.choice([("DATE_OF_BIRTH", date_forms(dt.date.fromisoformat(born))[0]), ("UK_NHS", nhs)])
            batch_findings.append(
                {
                    "document_id": doc_id,
                    "entity_type": extra[0],
                    "start": 0,
                    "end": 5,
                    "score": 0.9,
                    "value_hash": pii_hash(extra[0], extra[1], KEY),
                }
            )
        if len(batch_docs) >= 5000:
            flush()
    flush()


def scale(documents: int, seed: int, postgres_url: str | None) -> None:
    subjects = [("Olivia Smith", "1984-03-03", "9434765919"), ("James Hughes", "1971-11-30", "4010232137")]
    targets = [("SQLite", None)] + ([("PostgreSQL", postgres_url)] if postgres_url else [])
    print(f"\nscale: {documents:,} GENERATED catalogue rows (not processed documents), median of 3 searches per case")
    print(f"{'backend':<12} {'findings':>10} {'populate s':>11} {'search s':>9} {'found':>6}")
    for backend, url in targets:
        with tempfile.TemporaryDirectory(prefix="bench-sar-scale-") as work:
            store = open_catalogue(url or f"sqlite:///{Path(work) / 'scale.db'}")
            bind_pii_key(store, KEY)
            started = time.perf_counter()
            populate(store, documents, subjects, seed)
            populated = time.perf_counter() - started
            with store.transaction("count") as connection:
                findings = connection.execute(select(func.count()).select_from(t.pii_findings)).scalar_one()
            timings, found_counts = [], []
            for name, born, nhs in subjects:
                case_id = open_case(
                    store,
                    KEY,
                    {"name": [name], "date_of_birth": [born], "nhs_number": [nhs]},
                    received_on=dt.date(2026, 1, 5),
                    handler="bench",
                    user="bench",
                )
                for _ in range(3):
                    started = time.perf_counter()
                    found = search_case(store, case_id, "bench")
                    timings.append(time.perf_counter() - started)
                found_counts.append(len(found))
            print(
                f"{backend:<12} {findings:>10,} {populated:>11.0f} {statistics.median(timings):>9.3f} "
                f"{statistics.median(found_counts):>6.0f}"
            )
            store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=20, help="Planted subjects (each with a look-alike).")
    parser.add_argument("--scale", type=int, default=100_000, help="Generated catalogue rows for timing (0: skip).")
    parser.add_argument("--postgres", metavar="URL", help="Also time the scale part on this (empty) PostgreSQL.")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--verbose", action="store_true", help="Print each missed or wrongly attributed document.")
    args = parser.parse_args(argv)
    accuracy(args.subjects, args.seed, args.verbose)
    if args.scale:
        scale(args.scale, args.seed, args.postgres)


if __name__ == "__main__":
    main()

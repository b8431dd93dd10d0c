"""Regenerate the sample spreadsheets: `python sample_data/make_samples.py`.

The data is fixed (no randomness), so the files only change when this script does.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

HERE = Path(__file__).resolve().parent

MANAGERS = [
    "maria.garcia@northwind.example",
    "kenji.tanaka@northwind.example",
    "amara.okafor@northwind.example",
    "lukas.novak@northwind.example",
    "sofia.rossi@northwind.example",  # new this week: created from the users sheet
]

CLIENTS = [
    ("C-10045", "Acme Corporation", "contact@acme.example.com"),
    ("C-10046", "Globex Logistics", "ops@globex.example.com"),
    ("C-10047", "Initech Software", "it@initech.example.com"),
    ("C-10048", "Umbrella Pharma", "legal@umbrella.example.com"),
    ("C-10049", "Stark Industrial", "procurement@stark.example.com"),
    ("C-10050", "Wayne Enterprises", "office@wayne.example.com"),
    ("C-10051", "Müller & Söhne GmbH", "info@mueller-soehne.example.de"),
    ("C-10052", "Café Lumière SARL", "bonjour@cafe-lumiere.example.fr"),
    ("C-10053", "Sakura Trading KK", "contact@sakura-trading.example.jp"),
    ("C-10054", "Nordlys Energi AS", "post@nordlys.example.no"),
    ("C-10055", "Oasis Desalination", "hello@oasis-water.example.ae"),
    ("C-10056", "Pampas Agro S.A.", "ventas@pampas-agro.example.ar"),
    ("C-10057", "Kilimanjaro Coffee Co", "orders@kili-coffee.example.tz"),
    ("C-10058", "Vltava Glassworks", "obchod@vltava-glass.example.cz"),
    ("C-10059", "Maple Leaf Robotics", "team@mapleleaf-robotics.example.ca"),
    ("C-10060", "Southern Cross Mining", "admin@southerncross.example.au"),
    ("C-10061", "Rio Verde Textiles", "contato@rioverde.example.br"),
    ("C-10062", "Bangalore Analytics", "bd@blr-analytics.example.in"),
    ("C-10063", "Helvetia Precision AG", "kontakt@helvetia-precision.example.ch"),
    ("C-10064", "Aegean Shipping Ltd", "chartering@aegean-ship.example.gr"),
    ("C-10065", "Baltic Amber Studio", "studio@baltic-amber.example.lt"),
    ("C-10066", "Atlas Mountain Foods", "export@atlas-foods.example.ma"),
    ("C-10067", "Danube Bioscience", "research@danube-bio.example.at"),
    ("C-10068", "Andes Solar SpA", "proyectos@andes-solar.example.cl"),
    ("C-10069", "Emerald Isle Media", "studio@emerald-media.example.ie"),
]

# Three clients get a custom room with edit rights for the client; the rest use the playbook.
OVERRIDES = {
    "C-10051": ("custom", "editing"),
    "C-10055": ("custom", "editing"),
    "C-10063": ("virtual-data", "read"),
}

PEOPLE = [
    # (first, last, email, type, room, access, culture)
    ("Sofia", "Rossi", "sofia.rossi@northwind.example", "room-admin", "", "", "it-IT"),
    ("Wile", "Coyote", "wile.coyote@acme.example.com", "user", "C-10045", "editing", "en-US"),
    ("Road", "Runner", "road.runner@acme.example.com", "user", "C-10045", "read", "en-US"),
    ("Hank", "Scorpio", "hank@globex.example.com", "user", "C-10046", "editing", "en-US"),
    (
        "Peter",
        "Gibbons",
        "peter.gibbons@initech.example.com",
        "user",
        "C-10047",
        "editing",
        "en-US",
    ),
    ("Samir", "Nagheenanajar", "samir@initech.example.com", "user", "C-10047", "read", "en-US"),
    ("Alice", "Abernathy", "alice@umbrella.example.com", "user", "C-10048", "read", "en-GB"),
    (
        "Pepper",
        "Potts",
        "pepper.potts@stark.example.com",
        "user",
        "C-10049",
        "content-creator",
        "en-US",
    ),
    ("Lucius", "Fox", "lucius.fox@wayne.example.com", "user", "C-10050", "editing", "en-US"),
    (
        "Jürgen",
        "Müller",
        "juergen.mueller@mueller-soehne.example.de",
        "user",
        "C-10051",
        "editing",
        "de-DE",
    ),
    (
        "Zoë",
        "Schröder",
        "zoe.schroeder@mueller-soehne.example.de",
        "user",
        "C-10051",
        "review",
        "de-DE",
    ),
    (
        "Chloé",
        "Dubois",
        "chloe.dubois@cafe-lumiere.example.fr",
        "user",
        "C-10052",
        "editing",
        "fr-FR",
    ),
    (
        "Étienne",
        "Lefèvre",
        "etienne.lefevre@cafe-lumiere.example.fr",
        "user",
        "C-10052",
        "read",
        "fr-FR",
    ),
    (
        "Haruto",
        "Sato",
        "haruto.sato@sakura-trading.example.jp",
        "user",
        "C-10053",
        "editing",
        "ja-JP",
    ),
    (
        "Yui",
        "Nakamura",
        "yui.nakamura@sakura-trading.example.jp",
        "user",
        "C-10053",
        "read",
        "ja-JP",
    ),
    (
        "Ingrid",
        "Solberg",
        "ingrid.solberg@nordlys.example.no",
        "user",
        "C-10054",
        "editing",
        "nb-NO",
    ),
    (
        "Björn",
        "Lindqvist",
        "bjorn.lindqvist@nordlys.example.no",
        "user",
        "C-10054",
        "read",
        "sv-SE",
    ),
    (
        "Fatima",
        "Al-Mansouri",
        "fatima@oasis-water.example.ae",
        "user",
        "C-10055",
        "editing",
        "ar-AE",
    ),
    ("Omar", "Haddad", "omar.haddad@oasis-water.example.ae", "user", "C-10055", "comment", "ar-AE"),
    (
        "José",
        "Álvarez",
        "jose.alvarez@pampas-agro.example.ar",
        "user",
        "C-10056",
        "editing",
        "es-AR",
    ),
    (
        "Valentina",
        "Gómez",
        "valentina.gomez@pampas-agro.example.ar",
        "user",
        "C-10056",
        "read",
        "es-AR",
    ),
    ("Neema", "Mwakilema", "neema@kili-coffee.example.tz", "user", "C-10057", "editing", "sw-TZ"),
    (
        "Baraka",
        "Kimaro",
        "baraka.kimaro@kili-coffee.example.tz",
        "user",
        "C-10057",
        "read",
        "sw-TZ",
    ),
    (
        "Tereza",
        "Dvořáková",
        "tereza.dvorakova@vltava-glass.example.cz",
        "user",
        "C-10058",
        "editing",
        "cs-CZ",
    ),
    ("Jiří", "Novotný", "jiri.novotny@vltava-glass.example.cz", "user", "C-10058", "read", "cs-CZ"),
    (
        "Olivia",
        "Tremblay",
        "olivia.tremblay@mapleleaf-robotics.example.ca",
        "user",
        "C-10059",
        "editing",
        "fr-CA",
    ),
    (
        "Liam",
        "MacDonald",
        "liam.macdonald@mapleleaf-robotics.example.ca",
        "user",
        "C-10059",
        "read",
        "en-CA",
    ),
    (
        "Charlotte",
        "Nguyen",
        "charlotte.nguyen@southerncross.example.au",
        "user",
        "C-10060",
        "editing",
        "en-AU",
    ),
    ("Jack", "O'Brien", "jack.obrien@southerncross.example.au", "user", "C-10060", "read", "en-AU"),
    (
        "Gabriel",
        "Souza",
        "gabriel.souza@rioverde.example.br",
        "user",
        "C-10061",
        "editing",
        "pt-BR",
    ),
    (
        "Beatriz",
        "Carvalho",
        "beatriz.carvalho@rioverde.example.br",
        "user",
        "C-10061",
        "read",
        "pt-BR",
    ),
    (
        "Aarav",
        "Sharma",
        "aarav.sharma@blr-analytics.example.in",
        "user",
        "C-10062",
        "editing",
        "en-IN",
    ),
    ("Priya", "Iyer", "priya.iyer@blr-analytics.example.in", "user", "C-10062", "read", "en-IN"),
    (
        "Luca",
        "Brunner",
        "luca.brunner@helvetia-precision.example.ch",
        "user",
        "C-10063",
        "editing",
        "de-CH",
    ),
    ("Léa", "Favre", "lea.favre@helvetia-precision.example.ch", "user", "C-10063", "read", "fr-CH"),
    (
        "Nikos",
        "Papadopoulos",
        "nikos.papadopoulos@aegean-ship.example.gr",
        "user",
        "C-10064",
        "editing",
        "el-GR",
    ),
    (
        "Eleni",
        "Georgiou",
        "eleni.georgiou@aegean-ship.example.gr",
        "user",
        "C-10064",
        "read",
        "el-GR",
    ),
    (
        "Rūta",
        "Kazlauskienė",
        "ruta.kazlauskiene@baltic-amber.example.lt",
        "user",
        "C-10065",
        "editing",
        "lt-LT",
    ),
    (
        "Youssef",
        "Benali",
        "youssef.benali@atlas-foods.example.ma",
        "user",
        "C-10066",
        "editing",
        "fr-MA",
    ),
    (
        "Salma",
        "El Idrissi",
        "salma.elidrissi@atlas-foods.example.ma",
        "user",
        "C-10066",
        "read",
        "ar-MA",
    ),
    (
        "Katharina",
        "Huber",
        "katharina.huber@danube-bio.example.at",
        "user",
        "C-10067",
        "editing",
        "de-AT",
    ),
    (
        "Camila",
        "Rojas",
        "camila.rojas@andes-solar.example.cl",
        "user",
        "C-10068",
        "editing",
        "es-CL",
    ),
    (
        "Matías",
        "Fuentes",
        "matias.fuentes@andes-solar.example.cl",
        "user",
        "C-10068",
        "read",
        "es-CL",
    ),
    (
        "Siobhán",
        "O'Connor",
        "siobhan.oconnor@emerald-media.example.ie",
        "user",
        "C-10069",
        "editing",
        "en-IE",
    ),
    ("Cian", "Byrne", "cian.byrne@emerald-media.example.ie", "user", "C-10069", "read", "en-IE"),
    # Colleagues at our own company: portal members without a client room.
    ("Ngozi", "Adeyemi", "ngozi.adeyemi@northwind.example", "user", "", "", "en-GB"),
    ("Łukasz", "Wiśniewski", "lukasz.wisniewski@northwind.example", "user", "", "", "pl-PL"),
    ("Mei", "Chen", "mei.chen@northwind.example", "room-admin", "", "", "zh-CN"),
    ("Oluwaseun", "Bello", "oluwaseun.bello@northwind.example", "user", "", "", "en-NG"),
    ("Ananya", "Reddy", "ananya.reddy@northwind.example", "user", "", "", "en-IN"),
    ("Mateo", "Fernández", "mateo.fernandez@northwind.example", "user", "", "", "es-ES"),
    ("Emma", "Johansson", "emma.johansson@northwind.example", "user", "", "", "sv-SE"),
    # Addresses from the HR export without names: invited by e-mail in one batch.
    ("", "", "intern.2027a@northwind.example", "user", "", "", ""),
    ("", "", "intern.2027b@northwind.example", "user", "", "", ""),
    ("", "", "intern.2027c@northwind.example", "user", "", "", ""),
    ("", "", "temp.reception@northwind.example", "user", "", "", ""),
    ("", "", "auditor@kpmg-partner.example.com", "user", "C-10063", "read", ""),
    ("", "", "translator.fr@northwind.example", "user", "C-10052", "editing", ""),
    ("", "", "translator.ja@northwind.example", "user", "C-10053", "editing", ""),
    ("", "", "freelance.design@northwind.example", "user", "C-10069", "editing", ""),
]

CLIENT_HEADER = [
    "client_id",
    "client_name",
    "client_email",
    "manager_email",
    "room_title",
    "room_type",
    "client_access",
    "tags",
]
USER_HEADER = ["email", "first_name", "last_name", "type", "room", "access", "culture", "groups"]

# The company's own people in DocSpace groups (names separated by ;): a group the portal does
# not have is made once. The playbook shares every client room with "Accounting team".
GROUPS = {
    "sofia.rossi@northwind.example": "Account managers",
    "mei.chen@northwind.example": "Account managers",
    "ngozi.adeyemi@northwind.example": "Accounting team",
    "lukasz.wisniewski@northwind.example": "Accounting team",
    "oluwaseun.bello@northwind.example": "Accounting team; Support",
    "ananya.reddy@northwind.example": "Support",
    "mateo.fernandez@northwind.example": "Support",
    "emma.johansson@northwind.example": "Support",
    "intern.2027a@northwind.example": "Interns",
    "intern.2027b@northwind.example": "Interns",
    "intern.2027c@northwind.example": "Interns",
}


def client_rows() -> list[list[str]]:
    rows = []
    for n, (client_id, name, email) in enumerate(CLIENTS):
        room_type, access = OVERRIDES.get(client_id, ("", ""))
        tags = "key-account" if n % 5 == 0 else ""
        rows.append(
            [client_id, name, email, MANAGERS[n % len(MANAGERS)], "", room_type, access, tags]
        )
    return rows


def user_rows() -> list[list[str]]:
    return [
        [email, first, last, kind, room, access, culture, GROUPS.get(email, "")]
        for first, last, email, kind, room, access, culture in PEOPLE
    ]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def write_xlsx(path: Path) -> None:
    book = Workbook()
    bold = Font(bold=True)
    sheet = book.active
    assert sheet is not None
    for title, header, rows in (
        ("clients", CLIENT_HEADER, client_rows()),
        ("users", USER_HEADER, user_rows()),
    ):
        if sheet is None:
            sheet = book.create_sheet(title)
        sheet.title = title
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = bold
        for row in rows:
            sheet.append(row)
        sheet.freeze_panes = "A2"
        sheet = None
    book.save(path)


if __name__ == "__main__":
    write_csv(HERE / "clients.csv", CLIENT_HEADER, client_rows())
    write_csv(HERE / "users.csv", USER_HEADER, user_rows())
    write_xlsx(HERE / "onboarding.xlsx")
    print(f"{len(CLIENTS)} clients, {len(PEOPLE)} people written to {HERE}")

"""Word lists the rules consult, kept in one place so a reading is changed once."""

from __future__ import annotations


def words(text: str) -> tuple[str, ...]:
    """A word list written as one string, to keep long lists readable."""
    return tuple(text.split())


MONTHS = words(
    "January February March April May June July August September October November December"
)

# Dotted month abbreviations; only the dotted form is expanded ("Jan smiled" is a name).
MONTH_ABBREVIATIONS = {
    "Jan": "January",
    "Feb": "February",
    "Mar": "March",
    "Apr": "April",
    "Jun": "June",
    "Jul": "July",
    "Aug": "August",
    "Sep": "September",
    "Sept": "September",
    "Oct": "October",
    "Nov": "November",
    "Dec": "December",
}

WEEKDAY_ABBREVIATIONS = {
    "Mon": "Monday",
    "Tue": "Tuesday",
    "Tues": "Tuesday",
    "Wed": "Wednesday",
    "Thu": "Thursday",
    "Thur": "Thursday",
    "Thurs": "Thursday",
    "Fri": "Friday",
    "Sat": "Saturday",
    "Sun": "Sunday",
}

# Titles that stand before a capitalised name.
TITLES = {
    "Mr": "Mister",
    "Mrs": "Missus",
    "Messrs": "Messieurs",
    "Prof": "Professor",
    "Rev": "Reverend",
    "Revd": "Reverend",
    "Hon": "Honourable",
    "Lt": "Lieutenant",
    "Col": "Colonel",
    "Gen": "General",
    "Capt": "Captain",
    "Sgt": "Sergeant",
    "Cpl": "Corporal",
    "Maj": "Major",
    "Adm": "Admiral",
    "Cmdr": "Commander",
    "Gov": "Governor",
    "Sen": "Senator",
    "Rep": "Representative",
    "Pres": "President",
    "Supt": "Superintendent",
    "Insp": "Inspector",
    "Mme": "Madame",
    "Mlle": "Mademoiselle",
    "Mmes": "Mesdames",
    "Abp": "Archbishop",
    "Bp": "Bishop",
    "Mlles": "Mesdemoiselles",
    "Mt": "Mount",
    "Ft": "Fort",
    "Fr": "Father",
    "Pte": "Private",
    "Pvt": "Private",
    "Brig": "Brigadier",
    "Cdr": "Commander",
    "Rt": "Right",
    # Christian names shortened in old letters and registers ('Geo. Washington').
    "Wm": "William",
    "Geo": "George",
    "Chas": "Charles",
    "Jas": "James",
    "Thos": "Thomas",
    "Jno": "John",
    "Benj": "Benjamin",
    "Robt": "Robert",
    "Saml": "Samuel",
    "Richd": "Richard",
    "Edw": "Edward",
}
# "Ms" is said as a word espeak already knows; only the dot has to go.
TITLE_AS_WRITTEN = {"Ms"}

# Dotted abbreviations read the same wherever they stand.
ABBREVIATIONS = {
    "approx": "approximately",
    "Recd": "Received",
    "recd": "received",
    "dept": "department",
    "Dept": "Department",
    "vs": "versus",
    "etc": "et cetera",
    "cf": "compare",
    "viz": "namely",
    "Ltd": "Limited",
    "Inc": "Incorporated",
    "Corp": "Corporation",
    "Bros": "Brothers",
    "Jr": "Junior",
    "Sr": "Senior",
    "Esq": "Esquire",
    "Ave": "Avenue",
    "Rd": "Road",
    "Blvd": "Boulevard",
    "Ln": "Lane",
    "Sq": "Square",
    "Hwy": "Highway",
    "Univ": "University",
    "Assn": "Association",
    "Govt": "Government",
    "govt": "government",
    "ca": "circa",
}

# Multi-part dotted abbreviations, matched before single initialisms.
DOTTED_PHRASES = {
    "e.g.": "for example",
    "i.e.": "that is",
    "&c.": "et cetera",
    "a.m.": "AM",
    "p.m.": "PM",
    "A.M.": "AM",
    "P.M.": "PM",
    "Ph.D.": "PhD",
    "B.C.E.": "BCE",
    "C.E.": "C E",  # espeak reads "CE" as the word "see"
    "B.C.": "BC",
    "A.D.": "AD",
}

# Abbreviations that are only expanded before a number ("No. 5"; "No, he said" stays).
NUMBER_PREFIXES = {
    "No": ("number", "numbers"),
    "no": ("number", "numbers"),
    "Nos": ("numbers", "numbers"),
    "nos": ("numbers", "numbers"),
    "Vol": ("Volume", "Volumes"),
    "vol": ("volume", "volumes"),
    "Vols": ("Volumes", "Volumes"),
    "Ch": ("Chapter", "Chapters"),
    "ch": ("chapter", "chapters"),
    "Chap": ("Chapter", "Chapters"),
    "chap": ("chapter", "chapters"),
    "Fig": ("Figure", "Figures"),
    "fig": ("figure", "figures"),
    "Figs": ("Figures", "Figures"),
    "p": ("page", "pages"),
    "pp": ("pages", "pages"),
    "P": ("Page", "Pages"),
    "Pp": ("Pages", "Pages"),
    "Art": ("Article", "Articles"),
    "art": ("article", "articles"),
    "Sec": ("Section", "Sections"),
    "sec": ("section", "sections"),
    "c": ("circa", "circa"),
    "ca": ("circa", "circa"),
    "Ca": ("Circa", "Circa"),
    "op": ("opus", "opus"),
    "Pg": ("Page", "Pages"),
    "pg": ("page", "pages"),
    "VOL": ("VOLUME", "VOLUMES"),
    "CHAP": ("CHAPTER", "CHAPTERS"),
    "NO": ("NUMBER", "NUMBERS"),
    "b": ("born", "born"),
    "d": ("died", "died"),
    "lat": ("latitude", "latitude"),
    "Lat": ("Latitude", "Latitude"),
    "long": ("longitude", "longitude"),
    "Long": ("Longitude", "Longitude"),
    "Op": ("Opus", "Opus"),
    "Eq": ("Equation", "Equations"),
    "Sc": ("Scene", "Scenes"),
    "Bk": ("Book", "Books"),
    "bk": ("book", "books"),
    "n": ("note", "notes"),
    "nn": ("notes", "notes"),
    "eq": ("equation", "equations"),
    "Eqs": ("Equations", "Equations"),
    "eqs": ("equations", "equations"),
    "Ex": ("Exercise", "Exercises"),
    "ex": ("exercise", "exercises"),
}

# Words after which a Roman numeral is a plain number ("Chapter XIV", "World War II").
ROMAN_CARDINAL_KEYWORDS = words(
    "Chapter Part Book Volume Vol Act Scene Section Appendix Canto Article Psalm Letter Lecture "
    "Stave Plate Figure Table Lesson Episode Stage Class Phase Level Round Apollo Rocky Bowl War "
    "Series Type Class Division Corps Canon Sermon Essay Tome Fascicle Liber Title Grade Mark "
    "Vatican Sonnet Ode Hymn Schedule Annex Amendment Clause Paragraph Game Track Unit Wing "
    "Zone Gemini Voyager Pioneer Mariner Explorer Year Vol Tab Fig Plate Symphony Concerto "
    "Form Standard Category Model Mk Block Camp Station Dynasty Plan Operation Phase"
)

# Names that take a regnal ordinal ("Henry VIII" -> "Henry the Eighth").
REGNAL_NAMES = frozenset(
    words(
        "Alexander Alfonso Amenhotep Anne Antiochus Augustus Baldwin Benedict Boniface Carlos "
        "Casimir Catherine Celestine Charles Christian Clement Constantine Cyrus Darius David "
        "Edmund Edward Elizabeth Eugene Ferdinand Francis Frederick George Gregory Gustav Gustavus "
        "Harold Henri Henry Hadrian Honorius Innocent Isabella Ivan James Joanna John Joseph Juan "
        "Julius Leo Leopold Louis Ludwig Malcolm Manuel Margaret Maria Mary Maximilian Mehmed "
        "Michael Napoleon Nicholas Otto Paul Pedro Peter Philip Pius Ptolemy Ramesses Rameses "
        "Richard Robert Rudolf Sancho Selim Sixtus Stephen Suleiman Thutmose Umberto Urban Victor "
        "Victoria Wilhelm William Xerxes Alaric Andronicus Basil Henryk Olaf Haakon Magnus Eric "
        "Erik Sigismund Wenceslas Boleslaw Casimir Stanislaus Vladimir Ladislaus Bela Andrew "
        "Tiglath-Pileser Shalmaneser Sennacherib Nebuchadnezzar Seti Sesostris Pepi Cleopatra "
        "Arsinoe Herod Agrippa Theodosius Valentinian Leopold Rainier Albert Baudouin Juliana "
        "Beatrix Carol Ferdinando Vittorio Amadeus Emmanuel Harald Frederik Christina Kamehameha "
        "Ramses Sargon Mithridates Seleucus Farouk Faisal Hassan Cosimo Rudolph Gustaf Menelik"
    )
)

# After a number, these are units; the value says singular or plural.
# abbreviation: (singular, plural, British singular or None)
UNITS = {
    "km": ("kilometer", "kilometers", "kilometre"),
    "m": ("meter", "meters", "metre"),
    "cm": ("centimeter", "centimeters", "centimetre"),
    "mm": ("millimeter", "millimeters", "millimetre"),
    "nm": ("nanometer", "nanometers", "nanometre"),
    "kg": ("kilogram", "kilograms", None),
    "g": ("gram", "grams", None),
    "mg": ("milligram", "milligrams", None),
    "lb": ("pound", "pounds", None),
    "lbs": ("pounds", "pounds", None),
    "oz": ("ounce", "ounces", None),
    "ft": ("foot", "feet", None),
    "yd": ("yard", "yards", None),
    "yds": ("yards", "yards", None),
    "mi": ("mile", "miles", None),
    "in.": ("inch", "inches", None),
    "st.": ("stone", "stone", None),
    "vols.": ("volumes", "volumes", None),
    "pp.": ("pages", "pages", None),
    "L": ("liter", "liters", "litre"),
    "ml": ("milliliter", "milliliters", "millilitre"),
    "mL": ("milliliter", "milliliters", "millilitre"),
    "cl": ("centiliter", "centiliters", "centilitre"),
    "gal": ("gallon", "gallons", None),
    "qt": ("quart", "quarts", None),
    "mph": ("mile per hour", "miles per hour", None),
    "km/h": ("kilometer per hour", "kilometers per hour", "kilometre per hour"),
    "kph": ("kilometer per hour", "kilometers per hour", "kilometre per hour"),
    "m/s": ("meter per second", "meters per second", "metre per second"),
    "ha": ("hectare", "hectares", None),
    "acres": ("acres", "acres", None),
    "km²": ("square kilometer", "square kilometers", "square kilometre"),
    "m²": ("square meter", "square meters", "square metre"),
    "kW": ("kilowatt", "kilowatts", None),
    "MW": ("megawatt", "megawatts", None),
    "kWh": ("kilowatt hour", "kilowatt hours", None),
    "hp": ("horsepower", "horsepower", None),
    "Hz": ("hertz", "hertz", None),
    "kHz": ("kilohertz", "kilohertz", None),
    "MHz": ("megahertz", "megahertz", None),
    "GB": ("gigabyte", "gigabytes", None),
    "MB": ("megabyte", "megabytes", None),
    "KB": ("kilobyte", "kilobytes", None),
    "TB": ("terabyte", "terabytes", None),
    "hrs": ("hours", "hours", None),
    "hr": ("hour", "hours", None),
    "h": ("hour", "hours", None),
    "min": ("minute", "minutes", None),
    "mins": ("minutes", "minutes", None),
    "sec": ("second", "seconds", None),
    "secs": ("seconds", "seconds", None),
    "ms": ("millisecond", "milliseconds", None),
    "km/s": ("kilometer per second", "kilometers per second", "kilometre per second"),
    "tbsp": ("tablespoon", "tablespoons", None),
    "tsp": ("teaspoon", "teaspoons", None),
    "pts": ("pints", "pints", None),
    "cwt": ("hundredweight", "hundredweight", None),
    "yrs": ("years", "years", None),
    "kcal": ("kilocalorie", "kilocalories", None),
    "cal": ("calorie", "calories", None),
    "hPa": ("hectopascal", "hectopascals", None),
    "mb": ("millibar", "millibars", None),
    "mbar": ("millibar", "millibars", None),
    "mpg": ("mile per gallon", "miles per gallon", None),
    "pc": ("percent", "percent", None),
    "p.c.": ("percent", "percent", None),
}

TEMPERATURE_SCALES = {"F": "Fahrenheit", "C": "Celsius", "K": "Kelvin"}

CURRENCIES = {
    # symbol: (singular, plural, minor singular, minor plural)
    "$": ("dollar", "dollars", "cent", "cents"),
    "US$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "", ""),
    "₹": ("rupee", "rupees", "paisa", "paise"),
}

SCALE_WORDS = {
    "thousand": "thousand",
    "million": "million",
    "billion": "billion",
    "trillion": "trillion",
    "k": "thousand",
    "K": "thousand",
    "m": "million",
    "M": "million",
    "mn": "million",
    "bn": "billion",
    "b": "billion",
    "B": "billion",
    "tn": "trillion",
}

VULGAR_FRACTIONS = {
    "½": (1, 2),
    "⅓": (1, 3),
    "⅔": (2, 3),
    "¼": (1, 4),
    "¾": (3, 4),
    "⅕": (1, 5),
    "⅖": (2, 5),
    "⅗": (3, 5),
    "⅘": (4, 5),
    "⅙": (1, 6),
    "⅚": (5, 6),
    "⅛": (1, 8),
    "⅜": (3, 8),
    "⅝": (5, 8),
    "⅞": (7, 8),
}

# Words before a four-digit number that make it a year.
YEAR_CUES = frozenset(
    words(
        "in of since by until till from to between and during before after around about circa "
        "year years summer winter spring autumn fall early late mid christmas easter "
        "ad bc ce bce anno born died dated date c ca about spring through until"
    )
)

# Words after a number that show it is a year, not a count.
YEAR_FOLLOWERS = frozenset(words("ad bc ce bce a.d. b.c."))

# Lowercase words after a four-digit number that still let it be a year ("in 1921 the war").
FUNCTION_WORDS = frozenset(
    words(
        "a an the and or but nor so yet if when while as at by for from in into of on onto to "
        "with within without was were is are be been had has have did do does he she it they we "
        "i you his her its their our my your this that these those there then than which who "
        "whom whose where after before until till since saw brought marked came began ended "
        "drew took made gave fell rose broke swept struck led went won became found grew knew "
        "held sent built kept met caught fought bore wrote spoke stood ran "
        "would could should might must will shall may can not also only just still even again "
        "alone onward onwards forward through throughout under over upon against among during "
        "about around ad bc ce bce"
    )
)

# Capitalised words that begin a sentence, so a dotted initialism before them ended one.
SENTENCE_STARTERS = frozenset(
    words(
        "The A An It He She They We I You His Her Its Their Our My This That These Those There "
        "Then But And Or So Yet If When While As After Before Since In On At By For From With "
        "Without What Who Why How Where Which No Yes Now Here Still Even Although Though Because "
        "Meanwhile However Later Soon Once Many Most Some Each Every All Both Neither Nor Not "
        "Only One Two Today Tomorrow Yesterday"
    )
)

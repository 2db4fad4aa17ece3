"""The words of claims a product description may make only when its facts support them, per language.

Each claim has a name (the English one) and a pattern per language; a draft is searched with English and its own
language's patterns (``durable`` is "sustainable" in French but only "hard-wearing" in English), and a claim is
supported when any language's pattern for it matches the product's structured facts.
"""

from __future__ import annotations

# Awards, rankings, certifications and promises.
CLAIMS: dict[str, dict[str, str]] = {
    "award": {
        "en": r"award\w*|winn(?:er|ing)\w*|won(?![\w'’])|medal\w*|prize\w*",
        "de": r"preisgekrönt\w*|ausgezeichnet\w*|auszeichnung\w*|preisträger\w*|gewinner\w*|medaille\w*|prämiert\w*",
        "fr": r"prim[ée]e?s?(?!\w)|récompens\w*|lauréat\w*|médaille\w*",
        "es": r"galardon\w*|premiad\w*|premio\w*|ganador\w*|medalla\w*",
    },
    "best-selling": {
        "en": r"best[\s-]?sell\w*|most[\s-]popular|voted(?!\w)",
        "de": r"bestseller\w*|meistverkauft\w*|beliebteste\w*",
        "fr": r"meilleures?[\s-]ventes?|le plus vendu|plus populaire",
        "es": r"más vendid\w*|superventas|más popular\w*",
    },
    "#1": {
        "en": r"#\s?1\b|\bnumber one\b|\bno\.\s?1\b", "de": r"nr\.\s?1\b", "fr": r"n[°º]\s?1\b", "es": r"n[°º]\s?1\b",
    },
    "top-rated": {
        "en": r"top[\s-]rated",
        "de": r"testsieger\w*|bestbewertet\w*|testurteil\w*",
        "fr": r"le mieux not[ée]e?",
        "es": r"mejor valorad\w*",
    },
    "editor's choice": {"en": r"editor'?s'? choice"},
    "certified": {
        "en": r"certif\w*", "de": r"zertifiziert\w*|zertifikat\w*", "fr": r"certifi\w*", "es": r"certifica\w*",
    },
    "patented": {"en": r"patent\w*", "de": r"patent\w*", "fr": r"brevet\w*", "es": r"patentad\w*"},
    "clinically": {"en": r"clinical\w*", "de": r"klinisch\w*", "fr": r"clinique\w*", "es": r"clínic\w*"},
    "tested": {
        "en": r"(?:\w+[\s-])?tested",
        "de": r"(?:dermatologisch\s)?getestet\w*",
        "fr": r"(?:dermatologiquement\s)?test[ée]e?s?(?!\w)",
        "es": r"(?:dermatológicamente\s)?(?:probad|testad)\w*",
    },
    "recommended by": {
        "en": r"recommended by|(?:doctor|dermatologist|expert)s?[\s-]recommended",
        "de": r"empfohlen von|empfiehlt",
        "fr": r"recommandé\w* par",
        "es": r"recomendad\w* por",
    },
    "guarantee": {
        "en": r"guarantee\w*|warrant\w*",
        "de": r"garantie\w*|garantiert\w*",
        "fr": r"garanti\w*",
        "es": r"garantía\w*|garantizad\w*",
    },
    "lifetime": {"en": r"lifetime|for life", "de": r"lebenslang\w*", "fr": r"à vie", "es": r"de por vida|vitalici\w*"},
    "half price": {
        "en": r"half[\s-]price",
        "de": r"halbe[nr]? preis|zum halben",
        "fr": r"moitié prix",
        "es": r"mitad de precio",
    },
    "sustainable": {
        "en": r"sustainab\w*|eco[\s-]?friendly|fair[\s-]?trade|ethically",
        "de": r"nachhaltig\w*|umweltfreundlich\w*|fair gehandelt\w*|fairtrade",
        "fr": r"durables?(?!\w)|écologique\w*|éco-?responsable\w*|commerce équitable",
        "es": r"sostenible\w*|ecológic\w*|comercio justo",
    },
}  # fmt: skip
# Materials and features.
SPECS: dict[str, dict[str, str]] = {
    "waterproof": {"en": r"waterproof", "de": r"wasserdicht\w*", "fr": r"imperméable\w*", "es": r"impermeable\w*"},
    "water-resistant": {
        "en": r"water[\s-]resistant|water[\s-]repellent",
        "de": r"wasserabweisend\w*",
        "fr": r"déperlant\w*",
        "es": r"repelente al agua|hidrófug\w*",
    },
    "windproof": {"en": r"windproof", "de": r"winddicht\w*", "fr": r"coupe-vent", "es": r"cortavientos"},
    "breathable": {"en": r"breathable", "de": r"atmungsaktiv\w*", "fr": r"respirant\w*", "es": r"transpirable\w*"},
    "organic": {
        "en": r"organic", "de": r"bio\b[\s-]?\w*|biologisch\w*", "fr": r"bio(?:logique)?s?(?!\w)", "es": r"orgánic\w*",
    },
    "recycled": {"en": r"recycled", "de": r"recycelt\w*|recycling\w*", "fr": r"recyclé\w*", "es": r"reciclad\w*"},
    "vegan": {"en": r"vegan", "de": r"vegan\w*", "fr": r"végan\w*|vegan\w*", "es": r"vegan[oa]s?"},
    "hypoallergenic": {
        "en": r"hypoallergenic", "de": r"hypoallergen\w*", "fr": r"hypoallergénique\w*", "es": r"hipoalergénic\w*",
    },
    "antibacterial": {
        "en": r"antibacterial", "de": r"antibakteriell\w*", "fr": r"antibactérien\w*", "es": r"antibacterian\w*",
    },
    "machine washable": {"en": r"machine washable"},
    "handmade": {"en": r"hand-?made", "de": r"handgemacht\w*|handarbeit", "fr": r"fait main", "es": r"hecho a mano"},
    "wireless": {"en": r"wireless", "de": r"kabellos\w*", "fr": r"sans fil", "es": r"inalámbric\w*"},
    "bluetooth": {"en": r"bluetooth"},
    "gore-tex": {"en": r"gore-tex"},
    "merino": {"en": r"merino"},
    "cashmere": {"en": r"cashmere", "de": r"kaschmir", "fr": r"cachemire", "es": r"cachemira"},
    "leather": {"en": r"leather", "de": r"leder\w*", "fr": r"cuir", "es": r"cuero"},
    "silk": {"en": r"silk", "de": r"seide", "fr": r"soie", "es": r"seda"},
    "titanium": {"en": r"titanium", "de": r"titan", "fr": r"titane", "es": r"titanio"},
    "carbon": {"en": r"carbon", "de": r"carbon|karbon", "fr": r"carbone", "es": r"carbono"},
    "stainless": {"en": r"stainless", "de": r"edelstahl\w*|rostfrei\w*", "fr": r"inoxydable|inox", "es": r"inoxidable"},
    "bpa-free": {"en": r"bpa-free", "de": r"bpa-frei", "fr": r"sans bpa", "es": r"libre de bpa|sin bpa"},
}  # fmt: skip
# Money in words ("only twenty euros") is never a fact: the facts give the price in figures.
MONEY_WORDS = (
    r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundred|thousand|zwanzig|dreißig|fünfzig|hundert|tausend|zehn|vingt|trente|"
    r"cinquante|cent|mille|dix|veinte|treinta|cincuenta|cien|mil|diez)\s+(?:us\s+)?(?:dollars?|euros?|pounds?|"
    r"bucks?|francs?|dólares|libras)"
)
LANGUAGES = ("en", "de", "fr", "es")

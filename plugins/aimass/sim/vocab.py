"""Fixed vocabularies of the simulated shop: categories, brands, search terms, places, devices."""

from __future__ import annotations

# category -> (log-price mean, log-price sd, purchase-frequency log-odds offset)
CATEGORIES: dict[str, tuple[float, float, float]] = {
    "electronics": (4.6, 0.8, -0.35),
    "fashion": (3.6, 0.5, 0.15),
    "home": (3.7, 0.6, -0.05),
    "beauty": (3.0, 0.5, 0.30),
    "sports": (3.8, 0.6, 0.0),
    "toys": (3.2, 0.5, 0.0),
    "books": (2.7, 0.4, 0.10),
    "grocery": (2.3, 0.5, 0.55),
    "garden": (3.5, 0.7, -0.20),
    "pets": (3.0, 0.5, 0.35),
    "automotive": (3.9, 0.8, -0.30),
    "jewelry": (4.2, 0.9, -0.40),
}
CATEGORY_NAMES: list[str] = list(CATEGORIES)

BRANDS: dict[str, list[str]] = {
    "electronics": ["Voltix", "Nexon", "Auralite", "Quanta", "Pixelon"],
    "fashion": ["Urbanthread", "Lumena", "Northcoat", "Velora", "Denimark"],
    "home": ["Casaluna", "Hearthly", "Nestwell", "Oakline", "Dwellio"],
    "beauty": ["Glowra", "Purelle", "Velvetine", "Dermalis", "Bloomi"],
    "sports": ["Stridex", "Peakform", "Aerofit", "Trailon", "Kinetica"],
    "toys": ["Playnest", "Brickly", "Wondra", "Tinytown", "Jollibo"],
    "books": ["Inkwell Press", "Pagecraft", "Northbook", "Quillon", "Litera"],
    "grocery": ["Farmhaus", "Greenbasket", "Daybreak", "Harvesta", "Pantrio"],
    "garden": ["Verdana", "Rootwise", "Bloomfield", "Terragro", "Leafly"],
    "pets": ["Pawsome", "Furrbo", "Wagtail", "Purrfect", "Kibblo"],
    "automotive": ["Motorix", "Gearline", "Torqon", "Roadmate", "Autovia"],
    "jewelry": ["Aurelia", "Gemora", "Lustre", "Silvane", "Opaline"],
}

# category -> product nouns (titles) and search terms (queries)
PRODUCTS: dict[str, list[str]] = {
    "electronics": [
        "wireless earbuds",
        "smartphone",
        "laptop",
        "smart watch",
        "bluetooth speaker",
        "usb-c charger",
        "4k monitor",
        "gaming mouse",
        "tablet",
        "action camera",
    ],
    "fashion": [
        "denim jacket",
        "running sneakers",
        "summer dress",
        "wool sweater",
        "leather belt",
        "linen shirt",
        "rain coat",
        "ankle boots",
        "chino trousers",
        "baseball cap",
    ],
    "home": [
        "throw pillow",
        "ceramic vase",
        "desk lamp",
        "bath towel set",
        "coffee maker",
        "storage basket",
        "wall clock",
        "bed linen",
        "cast iron pan",
        "scented candle",
    ],
    "beauty": [
        "face serum",
        "lipstick",
        "sunscreen spf 50",
        "shampoo",
        "hand cream",
        "eye shadow palette",
        "perfume",
        "hair dryer",
        "nail polish",
        "face mask",
    ],
    "sports": [
        "yoga mat",
        "dumbbell set",
        "cycling helmet",
        "tennis racket",
        "running shorts",
        "water bottle",
        "resistance bands",
        "football",
        "hiking backpack",
        "swim goggles",
    ],
    "toys": [
        "building blocks",
        "plush bear",
        "puzzle 1000 pieces",
        "rc car",
        "board game",
        "doll house",
        "wooden train",
        "art set",
        "kite",
        "science kit",
    ],
    "books": [
        "crime novel",
        "cookbook",
        "children's picture book",
        "travel guide",
        "biography",
        "fantasy saga",
        "self-help book",
        "history book",
        "comic album",
        "poetry collection",
    ],
    "grocery": [
        "organic coffee beans",
        "olive oil",
        "dark chocolate",
        "green tea",
        "pasta",
        "granola",
        "honey",
        "spice set",
        "almond butter",
        "sparkling water",
    ],
    "garden": [
        "garden hose",
        "plant pots",
        "pruning shears",
        "lawn seed",
        "solar lights",
        "compost bin",
        "watering can",
        "garden gloves",
        "bird feeder",
        "raised bed",
    ],
    "pets": [
        "dog food",
        "cat litter",
        "chew toy",
        "pet bed",
        "cat tree",
        "dog leash",
        "aquarium filter",
        "bird seed",
        "pet shampoo",
        "scratching post",
    ],
    "automotive": [
        "car phone mount",
        "dash cam",
        "tire inflator",
        "seat covers",
        "car wax",
        "jump starter",
        "floor mats",
        "wiper blades",
        "car vacuum",
        "roof box",
    ],
    "jewelry": [
        "silver necklace",
        "gold ring",
        "pearl earrings",
        "charm bracelet",
        "wrist watch",
        "cufflinks",
        "anklet",
        "brooch",
        "pendant",
        "hoop earrings",
    ],
}
SEARCH_MODIFIERS: list[str] = ["", "cheap ", "best ", "sale ", "new ", "premium "]

ADJECTIVES: list[str] = [
    "Classic",
    "Eco",
    "Pro",
    "Lite",
    "Deluxe",
    "Compact",
    "Essential",
    "Signature",
    "Urban",
    "Vintage",
]

# country code -> (cities, phone prefix)
COUNTRIES: dict[str, tuple[list[str], str]] = {
    "DE": (["Berlin", "Hamburg", "Munich", "Cologne", "Leipzig"], "+49 15"),
    "FR": (["Paris", "Lyon", "Marseille", "Toulouse", "Lille"], "+33 6"),
    "GB": (["London", "Manchester", "Leeds", "Bristol", "Glasgow"], "+44 7"),
    "NL": (["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"], "+31 6"),
    "ES": (["Madrid", "Barcelona", "Valencia", "Seville"], "+34 6"),
    "IT": (["Rome", "Milan", "Naples", "Turin"], "+39 3"),
    "PL": (["Warsaw", "Krakow", "Gdansk", "Wroclaw"], "+48 5"),
    "SE": (["Stockholm", "Gothenburg", "Malmo"], "+46 7"),
    "US": (["New York", "Chicago", "Austin", "Seattle", "Boston"], "+1 555"),
}
COUNTRY_WEIGHTS: list[float] = [0.24, 0.15, 0.15, 0.08, 0.09, 0.09, 0.07, 0.05, 0.08]

FIRST_NAMES: list[str] = [
    "anna",
    "ben",
    "clara",
    "david",
    "emma",
    "felix",
    "greta",
    "hugo",
    "ines",
    "jonas",
    "karla",
    "leon",
    "mia",
    "noah",
    "olga",
    "paul",
    "rosa",
    "sam",
    "tara",
    "ugo",
    "vera",
    "wim",
    "yara",
    "zoe",
]
LAST_NAMES: list[str] = [
    "schmidt",
    "martin",
    "smith",
    "jansen",
    "garcia",
    "rossi",
    "nowak",
    "lind",
    "miller",
    "weber",
    "dubois",
    "brown",
    "visser",
    "lopez",
    "bianchi",
    "kowalski",
    "berg",
    "wilson",
]
EMAIL_DOMAINS: list[str] = ["example.com", "example.net", "example.org", "mail.example.com"]
GENDERS: list[str] = ["female", "male", "diverse"]
GENDER_WEIGHTS: list[float] = [0.52, 0.45, 0.03]

# os -> (purchase log-odds offset, is_mobile, browsers, models with screen resolution)
OPERATING_SYSTEMS: dict[str, tuple[float, bool, list[str], list[tuple[str, str]]]] = {
    "iOS": (
        0.25,
        True,
        ["App", "Safari"],
        [("iPhone 15", "1179x2556"), ("iPhone 13", "1170x2532"), ("iPad Air", "1640x2360")],
    ),
    "Android": (
        0.0,
        True,
        ["App", "Chrome"],
        [("Pixel 8", "1080x2400"), ("Galaxy S24", "1080x2340"), ("Redmi Note 13", "1080x2400")],
    ),
    "Windows": (
        -0.1,
        False,
        ["Chrome", "Edge", "Firefox"],
        [
            ("ThinkPad X1", "1920x1200"),
            ("Surface Laptop", "2256x1504"),
            ("Desktop PC", "2560x1440"),
        ],
    ),
    "macOS": (
        0.15,
        False,
        ["Safari", "Chrome"],
        [("MacBook Air", "2560x1664"), ("iMac", "4480x2520")],
    ),
    "Linux": (-0.15, False, ["Firefox", "Chrome"], [("Desktop PC", "1920x1080")]),
}
OS_NAMES: list[str] = list(OPERATING_SYSTEMS)
OS_WEIGHTS: list[float] = [0.32, 0.38, 0.2, 0.07, 0.03]

AD_CHANNELS: dict[str, tuple[float, float, float]] = {
    # channel -> (base click-through rate, cost per 1000 impressions, cost per click)
    "search": (0.045, 3.0, 0.85),
    "social": (0.018, 6.0, 0.55),
    "display": (0.008, 2.5, 0.40),
    "video": (0.012, 9.0, 0.35),
    "email": (0.035, 0.4, 0.10),
}
AD_OBJECTIVES: list[str] = ["awareness", "traffic", "conversion", "retargeting"]
AD_THEMES: list[str] = [
    "Summer Sale",
    "Back to School",
    "New Arrivals",
    "Weekend Deals",
    "Brand Push",
    "Flash Offers",
    "Autumn Collection",
    "Loyalty Boost",
]

MERCHANT_WORDS: tuple[list[str], list[str]] = (
    ["Blue", "Golden", "Urban", "Nordic", "Happy", "Silver", "Green", "Royal", "Little", "Bright"],
    ["Harbor", "Oak", "Fox", "Lane", "Market", "Corner", "Maple", "Peak", "River", "Studio"],
)
MERCHANT_SUFFIXES: list[str] = ["Goods", "Store", "Outlet", "Shop", "Trading", "Boutique"]
SUPPLIER_WORDS: list[str] = [
    "Nordic",
    "Atlas",
    "Pioneer",
    "Summit",
    "Coastal",
    "Evergreen",
    "Meridian",
    "Sterling",
    "Horizon",
    "Keystone",
    "Orchid",
    "Granite",
]
SUPPLIER_KINDS: list[str] = [
    "Textiles",
    "Electronics",
    "Foods",
    "Plastics",
    "Logistics",
    "Crafts",
    "Components",
    "Naturals",
]
SUPPLIER_SCOPES: list[str] = [
    "manufacturing",
    "wholesale",
    "import and export",
    "private label",
    "dropshipping",
    "packaging",
]
SUPPLIER_TAGS: list[str] = [
    "eco",
    "b2b",
    "fast-shipping",
    "certified",
    "local",
    "premium",
    "bulk",
    "fair-trade",
]

REVIEW_TEXTS: dict[int, list[str]] = {
    1: [
        "Arrived broken and support never answered.",
        "Not as described, returned it.",
        "Terrible quality, would not buy again.",
    ],
    2: [
        "Took too long to arrive.",
        "Cheap materials, disappointed.",
        "Does the job but feels flimsy.",
    ],
    3: [
        "Okay for the price.",
        "Average product, delivery was fine.",
        "Decent but nothing special.",
    ],
    4: [
        "Good quality and fast delivery.",
        "Happy with it, would recommend.",
        "Nice product, packaging could be better.",
    ],
    5: [
        "Excellent, exactly what I wanted!",
        "Great value and super fast shipping.",
        "Love it, buying another one.",
    ],
}

//! Per-category vocabularies that make generated products read like a shop's.

/// One product category: its path, brands, product nouns, adjectives and feature phrases.
#[derive(Debug)]
pub struct Category {
    /// Top-level category name.
    pub name: &'static str,
    /// Sub-categories (second level of the path).
    pub subcategories: &'static [&'static str],
    /// Brands selling in the category.
    pub brands: &'static [&'static str],
    /// Product nouns.
    pub nouns: &'static [&'static str],
    /// Adjectives for titles.
    pub adjectives: &'static [&'static str],
    /// Phrases for descriptions.
    pub features: &'static [&'static str],
    /// Price range in dollars.
    pub price: (f64, f64),
}

/// The categories the generator draws from.
pub const CATEGORIES: &[Category] = &[
    Category {
        name: "Electronics",
        subcategories: &["Headphones", "Speakers", "Chargers", "Cables"],
        brands: &["Sonora", "Voltix", "AudioPeak", "Lumen", "Cirrus", "Nexa"],
        nouns: &[
            "wireless headphones",
            "bluetooth speaker",
            "USB-C charger",
            "charging cable",
            "earbuds",
            "soundbar",
        ],
        adjectives: &[
            "compact",
            "noise-cancelling",
            "fast",
            "portable",
            "waterproof",
            "premium",
        ],
        features: &[
            "up to 30 hours of battery life",
            "deep bass and clear highs",
            "a braided cable that lasts",
            "fast charging for phones and laptops",
            "a built-in microphone for calls",
        ],
        price: (9.0, 250.0),
    },
    Category {
        name: "Kitchen",
        subcategories: &["Cookware", "Knives", "Coffee", "Storage"],
        brands: &[
            "Copperline",
            "Chef Atlas",
            "Brewhaus",
            "Oakhearth",
            "Kitchenly",
        ],
        nouns: &[
            "frying pan",
            "chef knife",
            "coffee grinder",
            "french press",
            "storage containers",
            "cutting board",
        ],
        adjectives: &[
            "non-stick",
            "stainless steel",
            "cast iron",
            "airtight",
            "ergonomic",
            "dishwasher-safe",
        ],
        features: &[
            "even heat on every hob",
            "a blade that stays sharp",
            "a consistent grind for espresso",
            "lids that seal tight",
            "easy to clean",
        ],
        price: (8.0, 180.0),
    },
    Category {
        name: "Sports & Outdoors",
        subcategories: &["Camping", "Fitness", "Cycling", "Running"],
        brands: &["Trailborn", "Summit Co", "Velo Nine", "Stride", "Kinetic"],
        nouns: &[
            "tent",
            "yoga mat",
            "bike light",
            "running shoes",
            "water bottle",
            "resistance bands",
        ],
        adjectives: &[
            "lightweight",
            "durable",
            "insulated",
            "breathable",
            "foldable",
            "reflective",
        ],
        features: &[
            "packs down small for the trail",
            "grip that holds in the rain",
            "keeps drinks cold for 24 hours",
            "adjustable for every level",
            "visible from 300 metres",
        ],
        price: (7.0, 300.0),
    },
    Category {
        name: "Toys & Games",
        subcategories: &["Board Games", "Puzzles", "Building Sets", "Outdoor Play"],
        brands: &[
            "Playforge",
            "Brickwise",
            "Puzzlewood",
            "Tinytown",
            "Funhaus",
        ],
        nouns: &[
            "board game",
            "jigsaw puzzle",
            "building set",
            "kite",
            "card game",
            "marble run",
        ],
        adjectives: &[
            "family",
            "1000-piece",
            "creative",
            "cooperative",
            "classic",
            "colourful",
        ],
        features: &[
            "for 2 to 6 players",
            "hours of screen-free fun",
            "pieces that click together firmly",
            "teaches counting and strategy",
            "ages 8 and up",
        ],
        price: (6.0, 90.0),
    },
    Category {
        name: "Beauty",
        subcategories: &["Skin Care", "Hair Care", "Fragrance", "Makeup"],
        brands: &[
            "Glowra",
            "Pure Petal",
            "Maison Lys",
            "Velvetine",
            "Aquabloom",
        ],
        nouns: &[
            "moisturiser",
            "shampoo",
            "eau de parfum",
            "lipstick",
            "face serum",
            "hair oil",
        ],
        adjectives: &[
            "hydrating",
            "fragrance-free",
            "vegan",
            "long-lasting",
            "gentle",
            "nourishing",
        ],
        features: &[
            "suits sensitive skin",
            "with hyaluronic acid",
            "a light floral scent",
            "stays on all day",
            "dermatologist tested",
        ],
        price: (5.0, 120.0),
    },
    Category {
        name: "Books",
        subcategories: &["Fiction", "Cooking", "History", "Science"],
        brands: &["Harbor Press", "Quill House", "Northlight", "Pageturner"],
        nouns: &[
            "novel",
            "cookbook",
            "history of Rome",
            "guide to the stars",
            "short stories",
            "field guide",
        ],
        adjectives: &[
            "bestselling",
            "illustrated",
            "hardcover",
            "award-winning",
            "pocket",
            "annotated",
        ],
        features: &[
            "a story you cannot put down",
            "over 100 recipes",
            "with maps and photographs",
            "written for curious readers",
            "a new translation",
        ],
        price: (4.0, 60.0),
    },
    Category {
        name: "Musical Instruments",
        subcategories: &["Guitars", "Strings", "Drums", "Keyboards"],
        brands: &["Fenwick", "Tonewood", "Rhythmix", "Keystone", "Harmonia"],
        nouns: &[
            "acoustic guitar",
            "guitar strings",
            "drum sticks",
            "digital piano",
            "guitar tuner",
            "capo",
        ],
        adjectives: &[
            "beginner",
            "professional",
            "nickel-wound",
            "weighted",
            "clip-on",
            "rosewood",
        ],
        features: &[
            "a warm, balanced tone",
            "stays in tune longer",
            "88 weighted keys",
            "fits every standard neck",
            "balanced for fast rolls",
        ],
        price: (5.0, 900.0),
    },
    Category {
        name: "Garden",
        subcategories: &["Tools", "Planters", "Seeds", "Watering"],
        brands: &["Greenacre", "Rootwell", "Bloomfield", "Terracotta Co"],
        nouns: &[
            "pruning shears",
            "raised planter",
            "seed collection",
            "garden hose",
            "watering can",
            "trowel",
        ],
        adjectives: &[
            "heavy-duty",
            "self-watering",
            "organic",
            "expandable",
            "rust-proof",
            "cedar",
        ],
        features: &[
            "cuts branches up to 2 cm",
            "drains without rotting roots",
            "germinates in 7 days",
            "kink-free in any weather",
            "a comfortable grip",
        ],
        price: (4.0, 150.0),
    },
];

/// Words for review summaries, by rating.
pub const SUMMARIES: [&[&str]; 5] = [
    &["Broke after a week", "Do not buy", "Very disappointed"],
    &["Not as described", "Poor quality", "Returned it"],
    &["It's okay", "Does the job", "Average"],
    &["Good value", "Works well", "Happy with it"],
    &[
        "Excellent!",
        "Love it",
        "Five stars",
        "Exactly what I wanted",
    ],
];

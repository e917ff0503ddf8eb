"""Word and name lists the demo data set is built from: names, bios, topics, comments."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topic:
    """One interest area: the boards people make about it and the words its pins use."""

    boards: tuple[str, ...]
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]
    domains: tuple[str, ...]


FIRST_NAMES = (
    "Aaliyah", "Adam", "Aiko", "Alex", "Amara", "Amelia", "Ana", "Andre", "Anna", "Arjun",
    "Ava", "Ben", "Bianca", "Caleb", "Carmen", "Chen", "Chloe", "Daniel", "Diego", "Elena",
    "Eli", "Emma", "Ethan", "Fatima", "Felix", "Freya", "Gabriel", "Grace", "Hana", "Hannah",
    "Henry", "Ines", "Isaac", "Isla", "Ivy", "Jack", "Jade", "James", "Jonas", "Julia",
    "Kai", "Kate", "Keanu", "Laila", "Lars", "Leah", "Leo", "Lily", "Lucas", "Lucia",
    "Maya", "Mei", "Mia", "Miguel", "Mila", "Nadia", "Noah", "Nora", "Olivia", "Omar",
    "Oscar", "Paula", "Priya", "Rafael", "Rosa", "Ruby", "Sam", "Sara", "Sofia", "Tariq",
    "Theo", "Uma", "Vera", "Victor", "Wen", "Yara", "Yuki", "Zara", "Zoe", "Zuri",
)  # fmt: skip

LAST_NAMES = (
    "Abbott", "Adeyemi", "Alvarez", "Andersen", "Bauer", "Becker", "Bennett", "Brooks",
    "Campbell", "Chen", "Costa", "Dang", "Diaz", "Dubois", "Edwards", "Evans", "Fischer",
    "Fontaine", "Garcia", "Gomez", "Gupta", "Hansen", "Hayes", "Hughes", "Ito", "Jensen",
    "Johnson", "Kaur", "Kim", "Kowalski", "Larsen", "Laurent", "Lee", "Lopez", "Martin",
    "Meyer", "Moreau", "Morris", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen",
    "Park", "Patel", "Perez", "Petrov", "Quinn", "Reyes", "Rossi", "Russo", "Sato", "Schmidt",
    "Silva", "Singh", "Smith", "Sousa", "Suzuki", "Tanaka", "Taylor", "Torres", "Tran",
    "Vargas", "Walker", "Wang", "Weber", "Wilson", "Wong", "Young", "Zhang", "Ziegler",
)  # fmt: skip

# Second halves of hobby handles like "mia.bakes".
HANDLE_WORDS = (
    "bakes", "makes", "designs", "travels", "home", "studio", "style", "eats", "cooks",
    "diy", "plants", "creates", "wanders", "interiors", "crafts", "daily",
)  # fmt: skip

ROLES = (
    "Interior designer", "Home cook", "Weekend baker", "Architecture student", "Photographer",
    "Florist", "Product designer", "Teacher", "Nurse", "Gardener", "Stylist", "Travel writer",
    "Software engineer", "Mom of two", "Ceramicist", "Illustrator", "Runner",
    "Vintage collector", "Wedding planner", "Yoga teacher", "Carpenter", "Food blogger",
)  # fmt: skip

CITIES = (
    "Amsterdam", "Austin", "Barcelona", "Berlin", "Brooklyn", "Buenos Aires", "Cape Town",
    "Chicago", "Copenhagen", "Denver", "Dublin", "Helsinki", "Kyoto", "Lisbon", "London",
    "Melbourne", "Mexico City", "Montreal", "Oslo", "Paris", "Portland", "Seoul", "Seattle",
    "Stockholm", "Sydney", "Toronto", "Vancouver", "Vienna",
)  # fmt: skip

INTERESTS = (
    "Collecting ideas for our first home", "Always planning the next trip",
    "Plants, coffee and good light", "Cooking my way through every cuisine",
    "Slowly renovating a 1920s bungalow", "Small space, big ideas",
    "Thrifting and upcycling", "Saving recipes I will definitely make one day",
    "Obsessed with mid-century furniture", "Learning to sew", "Garden in progress",
    "Neutral colors forever", "Weddings, flowers and everything in between",
    "Running, stretching, eating well", "Sketching every day",
)  # fmt: skip

TOPICS = (
    Topic(
        boards=("Kitchen ideas", "Scandinavian living room", "Cozy bedroom", "Small space living",
                "Bathroom refresh", "Home office", "Dream house", "Entryway inspo"),
        adjectives=("cozy", "minimalist", "scandinavian", "mid-century", "boho", "rustic",
                    "modern", "japandi", "bright", "warm", "neutral", "small"),
        nouns=("kitchen", "living room", "reading nook", "bookshelf", "bedroom", "gallery wall",
               "entryway", "pantry", "bathroom", "sofa", "rug", "dining nook", "home office"),
        domains=("nestandnook.example", "roomtour.example", "thehomeedit.example"),
    ),
    Topic(
        boards=("Weeknight dinners", "Baking", "Healthy lunches", "Desserts", "Breakfast ideas",
                "Vegetarian recipes", "Meal prep", "Cocktails"),
        adjectives=("easy", "healthy", "vegan", "creamy", "crispy", "one-pot", "spicy",
                    "lemony", "quick", "gluten-free", "cheesy", "homemade"),
        nouns=("pasta", "salad", "soup", "banana bread", "tacos", "curry", "sourdough",
               "pancakes", "granola", "lasagna", "stir fry", "brownies", "smoothie bowl"),
        domains=("dailybites.example", "smallkitchen.example", "bakeandbrew.example"),
    ),
    Topic(
        boards=("Travel bucket list", "Japan trip", "Road trips", "Beach getaways",
                "Europe summer", "Places to go", "Weekend escapes", "Hiking trails"),
        adjectives=("hidden", "scenic", "quiet", "budget", "dreamy", "coastal", "alpine",
                    "historic", "sunny", "off-season", "walkable", "wild"),
        nouns=("beaches", "mountain towns", "road trip", "hikes", "cabins", "islands",
               "city guide", "hot springs", "lakes", "itinerary", "campsites", "markets"),
        domains=("wanderlog.example", "farandaway.example", "slowtravel.example"),
    ),
    Topic(
        boards=("Fall outfits", "Capsule wardrobe", "Street style", "Work outfits",
                "Summer style", "Shoes", "Accessories", "Vintage finds"),
        adjectives=("casual", "oversized", "classic", "layered", "linen", "vintage",
                    "monochrome", "effortless", "cozy", "tailored", "minimal", "chic"),
        nouns=("outfits", "trench coat", "sweater", "jeans", "sneakers", "capsule wardrobe",
               "blazer", "dress", "boots", "tote bag", "scarf", "jewelry"),
        domains=("closetnotes.example", "wornwell.example", "thestyleedit.example"),
    ),
    Topic(
        boards=("Garden ideas", "Balcony garden", "Houseplants", "Vegetable garden",
                "Backyard", "Flower beds", "Patio", "Succulents"),
        adjectives=("low-maintenance", "shady", "raised", "wild", "small", "cottage",
                    "drought-tolerant", "vertical", "lush", "native", "sunny", "tiny"),
        nouns=("garden", "balcony", "herb garden", "flower bed", "patio", "houseplants",
               "vegetable beds", "container garden", "backyard", "greenhouse", "planters"),
        domains=("greenthumb.example", "backyardbloom.example", "plantparent.example"),
    ),
    Topic(
        boards=("DIY projects", "Crafts", "Upcycling", "Woodworking", "Sewing",
                "Gift ideas", "Holiday decor", "Kids crafts"),
        adjectives=("easy", "cheap", "weekend", "handmade", "no-sew", "upcycled", "rustic",
                    "simple", "festive", "scrap wood", "beginner", "quick"),
        nouns=("shelves", "wreath", "candles", "planter", "tote bag", "headboard", "garland",
               "bookends", "macrame", "side table", "gift tags", "ornaments"),
        domains=("makeitmonday.example", "craftroom.example", "handmadehappy.example"),
    ),
    Topic(
        boards=("Wedding inspiration", "Wedding flowers", "Bridal hair", "Wedding cakes",
                "Engagement photos", "Table settings", "Wedding dresses", "Honeymoon"),
        adjectives=("rustic", "elegant", "boho", "simple", "romantic", "garden", "modern",
                    "vintage", "intimate", "pastel", "outdoor", "classic"),
        nouns=("wedding cake", "bouquet", "centerpieces", "table setting", "veil", "updo",
               "wedding dress", "invitations", "arch", "place cards", "venue", "favors"),
        domains=("weddingbells.example", "ido.example", "bridalnotes.example"),
    ),
    Topic(
        boards=("Workouts", "Yoga", "Running", "Healthy habits", "Home gym",
                "Stretching", "Fitness motivation", "Pilates"),
        adjectives=("quick", "beginner", "full-body", "low-impact", "morning", "20-minute",
                    "strength", "core", "gentle", "intense", "no-equipment", "daily"),
        nouns=("workout", "yoga flow", "stretch routine", "running plan", "ab workout",
               "home gym", "pilates routine", "mobility drills", "training plan", "hiit"),
        domains=("movewell.example", "stridenotes.example", "dailyflow.example"),
    ),
)  # fmt: skip

# Fields: {adj} and {noun} from the board's topic, {n} a listicle size, {season}.
TITLE_TEMPLATES = (
    "{adj} {noun}",
    "{adj} {noun} ideas",
    "The best {adj} {noun}",
    "{n} {adj} {noun} ideas you'll love",
    "{adj} {noun} for {season}",
    "{adj} {noun} inspiration",
    "Our {adj} {noun}",
    "{adj} {noun}, step by step",
    "{noun} goals",
)

DESCRIPTION_TEMPLATES = (
    "Love how this {noun} turned out.",
    "Perfect {noun} inspiration for {season}.",
    "Trying this {adj} {noun} idea next weekend.",
    "{adj} {noun}, easy to copy on a budget.",
    "Saving this {noun} idea for later.",
    "Everything I want for {season}: {adj} {noun}.",
    "So many good {noun} ideas in here.",
    "Finally found the {adj} {noun} I was looking for.",
)

SEASONS = ("spring", "summer", "fall", "winter", "the holidays", "the weekend")

BOARD_DESCRIPTIONS = (
    "Ideas I want to try.",
    "Saving the good stuff.",
    "For someday.",
    "Inspiration, mostly.",
    "Things I keep coming back to.",
    "Work in progress.",
    "My favorite finds.",
)

COMMENT_OPENERS = (
    "Love this!", "So pretty.", "Where is this from?", "Obsessed 😍", "Great idea!",
    "This is exactly what I was looking for.", "Need this in my life.", "Beautiful colors.",
    "Does anyone know the paint color?", "Trying this weekend.", "Wow.", "So cozy.",
    "Adding to my list.", "Thanks for sharing!", "Amazing.", "The link doesn't work for me.",
    "How long did this take?", "Yes please.", "Goals.", "Perfect for my place.",
    "I made this and it turned out great.", "Love the details.", "Stunning.",
    "Such a good find.", "Is there a recipe?", "Saving this one.", "Can't stop looking at it.",
    "My mom would love this.", "Doing this next month!", "Simple and beautiful.",
)  # fmt: skip

COMMENT_FOLLOWUPS = (
    "❤️", "😍", "🙌", "Thank you!", "Saving it for later.", "Where did you find it?",
    "Can't wait to try it.", "Sharing with my sister.", "More like this please.",
    "Bookmarked.",
)  # fmt: skip

"""Passages of other kinds than drug leaflets for the reader adapter: workplace policies, appliance guides,
shuttle timetables, recipes, club rules, tenancy terms, release notes, school notices and event programmes,
invented from templates with a seeded rng, with questions of every form of the outside documents
(utils/tasks/outside.FORMS: who, what, when, where, which, how many, how much, how long, what percentage, how).

A passage states most facts of its domain and leaves one or two out: a question about a fact left out is
on the passage's topic, and its answer is "unknown" (the hard case: the search finds the passage, and the
reader must see that it does not say). Every answer is a span of its passage, written there once; a fact
left out has a value that the passage does not contain.

A passage is asked QUESTIONS_A_PASSAGE questions it answers. When it states two facts whose answers look
alike (two names, two amounts of money, two times, two durations...), the second question asks the other
one, so that only the question tells them apart. With probability UNANSWERABLE it is also asked about a
fact it leaves out. The questions are composed as reader_data composes the leaflets' questions (an opener,
a core, a closer; some in lower case), with openers that suit any document.

with_other_domains puts these passages in place of a share of the leaflets, word for word, so that the
reader's training stays as long (tests/test_reader_domains.py checks the budget). Written for this
generator, not tuned on the outside sets; tests/test_outside_sets.py checks that no run of 8 words of an
outside document or question is in them.
"""
from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from utils.lessons.reader_data import CLOSERS, LOWER_CASE_SHARE, OPENERS, Example, compose_question
from utils.tasks.world import UNKNOWN

QUESTIONS_A_PASSAGE = 3  # answerable questions asked of each passage
UNANSWERABLE = 0.3  # of the passages also asked about a fact they leave out
# The leaflets' openers that fit any document, and some of the documents' own.
DOCUMENT_OPENERS = [o for o in OPENERS if "pharmacist" not in o[0] and "leaflet" not in o[0]] + [
    ("According to the document, ", "lower"), ("From this text: ", ""), ("Reading this, ", "lower")]


@dataclass(frozen=True)
class Fact:
    slot: str
    form: str  # one of utils.tasks.outside.FORMS
    kind: str  # what the answer looks like: two facts of a kind in a passage are asked together
    value: Callable[[random.Random], str]
    sentences: tuple[str, ...]  # ways a passage states it: {value} and the domain's context fields
    cores: tuple[str, ...]  # questions asking for it, without the final "?"


@dataclass(frozen=True)
class Domain:
    name: str
    heading: str
    context: dict[str, Callable[[random.Random], str]]  # names the passage is about, e.g. {"org": ...}
    facts: tuple[Fact, ...]
    fillers: tuple[str, ...]  # sentences that state no fact asked about


@dataclass(frozen=True)
class Passage:
    domain: str
    text: str  # heading, then one or two paragraphs
    context: dict[str, str]
    values: dict[str, str]  # slot -> its value, stated or not
    stated: tuple[Fact, ...]
    left_out: tuple[Fact, ...]


# ---------------------------------------------------------------- values

_FIRST = ["Priya", "Tomasz", "Ingrid", "Kwame", "Sofia", "Mateo", "Aoife", "Yusuf", "Hanna", "Ravi",
          "Leona", "Callum", "Noor", "Emeka", "Greta", "Jonas", "Marisol", "Dmitri", "Fenella", "Oskar"]
_LAST = ["Marchetti", "Okonkwo", "Lindqvist", "Brennan", "Havlicek", "Castillo", "Fairweather", "Kovac",
         "Ashdown", "Delacroix", "Nyberg", "Oduya", "Pemberton", "Rasmussen", "Teague", "Whitlock"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "September", "October", "November"]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
_TOWNS = ["Ashcombe", "Brindle", "Cortham", "Dunmere", "Elsworth", "Fallowby", "Greyhaven", "Hartsell"]


def _one_of(*options: str) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(options)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _pounds(low: int, high: int, step: int = 1, pence: bool = False) -> Callable[[random.Random], str]:
    def value(rng: random.Random) -> str:
        pounds = rng.randrange(low, high + 1, step)
        return f"£{pounds}.{rng.choice([20, 40, 50, 60, 80])}" if pence else f"£{pounds:,}"
    return value


def _number(low: int, high: int, unit: str = "", step: int = 1) -> Callable[[random.Random], str]:
    return lambda rng: f"{rng.randrange(low, high + 1, step)}{unit}"


def _clock(first_hour: int, last_hour: int) -> Callable[[random.Random], str]:
    return lambda rng: f"{rng.randint(first_hour, last_hour):02d}:{rng.choice(range(0, 60, 5)):02d}"


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2, 28)} {rng.choice(_MONTHS)}"


def _company(*trades: str) -> Callable[[random.Random], str]:
    names = ["Halvard", "Tremayne", "Quillon", "Brackley", "Osterby", "Wrenfield", "Castellan", "Mirefield"]
    return lambda rng: f"{rng.choice(names)} {rng.choice(trades)}"


# ---------------------------------------------------------------- the domains

def _fact(slot, form, kind, value, sentences, cores) -> Fact:
    return Fact(slot, form, kind, value, tuple(sentences), tuple(cores))


DOMAINS = (
    Domain("workplace policy", "{org}: working from home",
           {"org": _company("Logistics", "Software", "Insurance", "Consulting", "Analytics")},
           (_fact("days", "how many", "count", _one_of("one day", "two days", "three days", "2 days", "3 days"),
                  ["Staff may work from home on up to {value} a week.",
                   "Anyone whose role allows it can spend {value} a week working from home."],
                  ["How many days a week can staff work from home", "On how many days a week may I work at home"]),
            _fact("approver", "who", "person", _person,
                  ["Every request to work from home is approved by {value}.",
                   "{value} signs off each home working request."],
                  ["Who approves a request to work from home", "Who has to sign off home working at {org}"]),
            _fact("contact", "who", "person", _person,
                  ["Questions about laptops and headsets go to {value} in IT.",
                   "For equipment problems, contact {value} on the IT team."],
                  ["Who should I contact about a broken headset", "Who handles equipment questions for home workers"]),
            _fact("allowance", "how much", "money", _pounds(150, 400, 25),
                  ["A one-off allowance of {value} pays for a desk and a chair.",
                   "{org} gives each home worker {value} towards a desk and a chair."],
                  ["How much is the allowance for a desk and chair", "What sum does {org} give for home furniture"]),
            _fact("broadband", "how much", "money", _pounds(10, 30, 5),
                  ["The company adds {value} a month to the salary for broadband.",
                   "Broadband is covered with {value} a month."],
                  ["How much does {org} pay each month for broadband", "What is the monthly broadband payment"]),
            _fact("notice", "how long", "duration", _one_of("ten working days", "two weeks", "one month",
                                                                    "5 working days"),
                  ["Ask at least {value} before your first day at home.",
                   "A request must be made {value} in advance."],
                  ["How long in advance must a home working request be made",
                   "How long before the first day at home do I have to ask"]),
            _fact("office", "what percentage", "percent", _number(30, 70, "%", 10),
                  ["Everyone still spends at least {value} of their hours in the office.",
                   "At least {value} of working time is spent on site."],
                  ["What percentage of working hours must be spent in the office",
                   "What share of their hours do staff spend on site at least, in percent"]),
            _fact("pickup", "where", "place", _one_of("the IT desk on the second floor", "reception", "the post room",
                                                      "room 4B", "the basement store"),
                  ["Laptops for home use are collected from {value}.", "Pick up your laptop from {value}."],
                  ["Where do I collect a laptop for home working", "Where are laptops picked up"])),
           ("Home workers follow the same security rules as in the office.", "The policy is reviewed every spring.",
            "Meetings with clients still take place on site.")),
    Domain("appliance guide", "{brand} {appliance}: quick guide",
           {"brand": _one_of("Corvane", "Thistlewood", "Kalmari", "Breezon", "Ulvik", "Presta"),
            "appliance": _one_of("dehumidifier", "air fryer", "bread maker", "steam cleaner", "humidifier"),
            "code": _one_of("E1", "E2", "E3", "E5", "E7", "F4", "F9")},
           (_fact("capacity", "how much", "quantity", _one_of("1.5 litres", "2 litres", "800 ml",
                                                                        "3.2 litres", "650 ml"),
                  ["The water tank holds {value}.", "Its tank takes {value} of water."],
                  ["How much water does the tank hold", "How much fits in the tank of the {appliance}"]),
            _fact("power", "how much", "quantity", _one_of("900 watts", "1,200 watts", "1,500 watts", "650 watts"),
                  ["At full power it draws {value}.", "The {appliance} uses {value} on its highest setting."],
                  ["How much power does the {appliance} draw at full power",
                   "How much electricity does it use on the highest setting, in watts"]),
            _fact("warranty", "how long", "duration", _one_of("two years", "three years", "18 months", "five years"),
                  ["{brand} guarantees it for {value} from the date of purchase.",
                   "The guarantee lasts {value}."],
                  ["How long is the {brand} guarantee", "For how long is the {appliance} under warranty"]),
            _fact("cleaning", "how many", "duration", _one_of("20 hours", "50 hours", "10 hours", "100 hours"),
                  ["Clean the filter after every {value} of use.", "The filter needs a rinse each {value} of running."],
                  ["After how many hours of use should the filter be cleaned",
                   "How many hours can it run before the filter needs cleaning"]),
            _fact("error", "what", "thing", _one_of("the filter is blocked", "the tank is empty", "the lid is open",
                                                    "the fan has stopped", "the room is too cold"),
                  ["If the display shows {code}, {value}.", "Error {code} means that {value}."],
                  ["What does the error {code} mean", "What is wrong when the display says {code}"]),
            _fact("reset", "which", "thing", _one_of("the power button", "the Mode button", "the Start button",
                                                     "the Timer button"),
                  ["To reset the {appliance}, hold down {value} until it beeps.",
                   "Holding {value} resets every setting."],
                  ["Which button resets the {appliance}", "Which button do I hold to reset the settings"]),
            _fact("descale", "how", "thing", _one_of("with a cup of white vinegar", "by running the citric acid cycle",
                                                     "with the tablets in the box", "with warm soapy water"),
                  ["Descale it once a month {value}.", "Once a month, clean the inside {value}."],
                  ["How should the {appliance} be descaled", "How do I clean the inside of the {appliance}"]),
            _fact("spares", "where", "place", _one_of("the {brand} web shop", "any hardware store",
                                                      "the service centre", "the shop where you bought it"),
                  ["Spare filters are sold at {value}.", "New filters can be bought from {value}."],
                  ["Where can I buy a spare filter", "Where are replacement filters sold"])),
           ("Unplug it before cleaning.", "Keep it at least 20 cm from the wall.",
            "Never cover the air vents.")),
    Domain("timetable", "{route} shuttle: timetable and fares",
           {"route": _one_of("Riverside", "Airport", "Hospital", "Harbour", "Park and Ride", "University"),
            "destination": lambda rng: f"{rng.choice(_TOWNS)} {rng.choice(['Market', 'Cross', 'Green', 'Quay'])}"},
           (_fact("first", "when", "time", _clock(5, 7),
                  ["The first shuttle of the day leaves at {value}.", "Services start at {value}."],
                  ["When does the first {route} shuttle leave", "What time does the earliest shuttle go"]),
            _fact("last", "when", "time", _clock(21, 23),
                  ["The last one departs at {value}.", "The final departure is at {value}."],
                  ["When does the last shuttle leave", "At what time is the final departure of the day"]),
            _fact("stop", "where", "place", _one_of("the north entrance of the hospital", "stand 4 outside the station",
                                                    "the car park on Quarry Lane", "the town hall steps"),
                  ["Every journey starts from {value}.", "Shuttles leave from {value}."],
                  ["Where does the {route} shuttle leave from", "Where do I get on the shuttle"]),
            _fact("interval", "how many", "duration", _one_of("10 minutes", "12 minutes", "15 minutes", "20 minutes"),
                  ["During the day a shuttle runs every {value}.", "Between services there are {value}."],
                  ["How many minutes are there between shuttles", "Every how many minutes does a shuttle run"]),
            _fact("journey", "how long", "duration", _one_of("25 minutes", "35 minutes", "40 minutes", "an hour"),
                  ["The ride to {destination} takes about {value}.", "Allow {value} to reach {destination}."],
                  ["How long does the ride to {destination} take", "How long is the trip to {destination}"]),
            _fact("single", "how much", "money", _pounds(1, 3, pence=True),
                  ["A single ticket costs {value}.", "Singles are {value}."],
                  ["How much is a single ticket", "What does a one-way ticket cost"]),
            _fact("return", "how much", "money", _pounds(4, 6, pence=True),
                  ["A return costs {value}.", "Return tickets are {value}."],
                  ["How much is a return ticket", "What is the price of a return"]),
            _fact("operator", "who", "company", _company("Travel", "Coaches", "Transit"),
                  ["The service is run by {value}.", "{value} operates the route."],
                  ["Who runs the {route} shuttle", "Who operates this service"]),
            _fact("no_service", "which", "day", _one_of("Sundays", "Saturdays", "bank holidays", "Christmas Day"),
                  ["There is no service on {value}.", "No shuttles run on {value}."],
                  ["On which days is there no shuttle", "Which days have no service"]),
            _fact("discount", "what percentage", "percent", _number(20, 50, "%", 5),
                  ["Students with a card pay {value} less.", "A student card takes {value} off every fare."],
                  ["What percentage do students save on a fare", "What is the student discount in percent"])),
           ("Dogs on a lead travel free.", "Tickets are bought from the driver.",
            "Timings may change during roadworks.")),
    Domain("recipe", "{dish}",
           {"dish": _one_of("Lentil soup", "Plum crumble", "Spinach pie", "Barley risotto", "Ginger biscuits",
                            "Apple flapjacks", "Leek tart")},
           (_fact("servings", "how many", "count", _one_of("4 people", "6 people", "8 people", "two people"),
                  ["This recipe serves {value}.", "The quantities here feed {value}."],
                  ["How many people does the recipe serve", "For how many people is this enough"]),
            _fact("oven", "what", "temperature", _one_of("180 degrees", "190 degrees", "200 degrees", "160 degrees"),
                  ["Heat the oven to {value} first.", "Set the oven to {value}."],
                  ["What temperature should the oven be", "What is the oven temperature for the {dish}"]),
            _fact("bake", "how long", "duration", _one_of("25 minutes", "35 minutes", "45 minutes", "an hour"),
                  ["Bake for {value}, until golden.", "It needs {value} in the oven."],
                  ["How long does the {dish} bake", "How long should it stay in the oven"]),
            _fact("rest", "how long", "duration", _one_of("10 minutes", "15 minutes", "half an hour", "two hours"),
                  ["Leave the mixture to rest for {value}.", "Let it stand for {value} before cooking."],
                  ["How long must the mixture rest", "How long should it stand before cooking"]),
            _fact("flour", "how much", "quantity", _number(150, 450, " g", 50),
                  ["You need {value} of flour.", "Weigh out {value} of flour."],
                  ["How much flour do I need", "How much flour goes into the {dish}"]),
            _fact("sugar", "how much", "quantity", _number(40, 140, " g", 20),
                  ["Stir in {value} of sugar.", "Add {value} of sugar."],
                  ["How much sugar is used", "How much sugar goes in"]),
            _fact("swap", "which", "thing", _one_of("olive oil", "coconut oil", "margarine", "sunflower spread"),
                  ["With no butter at hand, use {value} instead.", "Butter can be replaced by {value}."],
                  ["Which ingredient can replace the butter", "Which fat can I use if I have no butter"]),
            _fact("check", "how", "thing", _one_of("with a skewer", "by pressing the top lightly",
                                                   "by tapping the base", "by tasting a spoonful"),
                  ["Check that it is done {value}.", "You can tell it is ready {value}."],
                  ["How can I tell the {dish} is done", "How do you check that it is ready"]),
            _fact("storage", "where", "place", _one_of("in the fridge", "in an airtight tin", "in the freezer",
                                                       "in a cool cupboard"),
                  ["Keep any leftovers {value}.", "Leftovers are best stored {value}."],
                  ["Where should leftovers be kept", "Where do I store what is left"]),
            _fact("author", "who", "person", _person,
                  ["Recipe by {value}.", "{value} wrote this recipe."],
                  ["Who wrote this recipe", "Whose recipe is the {dish}"])),
           ("A pinch of salt lifts the flavour.", "Serve it warm.", "Wash your hands before you start.")),
    Domain("club rules", "{town} {activity} club: rules for members",
           {"town": _one_of(*_TOWNS), "activity": _one_of("chess", "rowing", "cycling", "photography", "walking")},
           (_fact("fee", "how much", "money", _pounds(30, 120, 5),
                  ["Membership costs {value} a year.", "The yearly fee is {value}."],
                  ["How much does membership cost a year", "What is the yearly fee for adults"]),
            _fact("junior", "how much", "money", _pounds(5, 25, 5),
                  ["Juniors pay {value}.", "Under-18s are charged {value}."],
                  ["How much do juniors pay", "What do under-18s pay to join"]),
            _fact("day", "when", "day", _one_of(*_WEEKDAYS),
                  ["Members meet every {value} evening.", "Club nights are on {value}."],
                  ["When does the club meet", "On what day are club nights"]),
            _fact("venue", "where", "place", _one_of("the Old Mill Hall", "the parish room", "the library annexe",
                                                     "the scout hut on Ferry Road", "the community centre"),
                  ["Meetings are held at {value}.", "The club meets at {value}."],
                  ["Where are the meetings held", "Where does the {activity} club meet"]),
            _fact("secretary", "who", "person", _person,
                  ["{value} is the secretary and keeps the register.", "The secretary, {value}, keeps the register."],
                  ["Who is the club secretary", "Who keeps the register"]),
            _fact("chair", "who", "person", _person,
                  ["The chair, {value}, sets the agenda.", "{value} chairs the club."],
                  ["Who chairs the club", "Who sets the agenda"]),
            _fact("guests", "how many", "count", _one_of("two guests", "three guests", "four guests", "5 guests"),
                  ["A member may bring {value} a season.", "Each season a member can invite {value}."],
                  ["How many guests may a member bring", "How many guests can I invite each season"]),
            _fact("age", "what", "count", _one_of("14", "16", "18", "12"),
                  ["Members must be at least {value} years old.", "The minimum age is {value}."],
                  ["What is the minimum age to join", "What age must members have reached"]),
            _fact("students", "what percentage", "percent", _number(10, 50, "%", 10),
                  ["Students get {value} off the fee.", "A student pays {value} less."],
                  ["What percentage off do students get", "What is the student discount, as a percentage"]),
            _fact("join", "how", "thing", _one_of("by filling in the form on the notice board",
                                                  "by emailing the secretary", "by coming to two meetings first",
                                                  "through the club website"),
                  ["New members join {value}.", "You can join {value}."],
                  ["How does someone join the club", "How do I become a member"])),
           ("Phones are switched to silent during meetings.", "Tea and biscuits are free.",
            "The rules were agreed at the last general meeting.")),
    Domain("tenancy terms", "Tenancy terms: {address}",
           {"address": lambda rng: f"{rng.randint(2, 98)} {rng.choice(['Orchard', 'Mill', 'Station', 'Church'])} "
                                   f"{rng.choice(['Road', 'Street', 'Lane', 'Close'])}"},
           (_fact("rent", "how much", "money", _pounds(600, 1400, 25),
                  ["The rent is {value} a month.", "Tenants pay {value} each month."],
                  ["How much is the monthly rent", "What is the rent for {address}"]),
            _fact("deposit", "how much", "money", _pounds(700, 1800, 50),
                  ["A deposit of {value} is held in a protection scheme.", "The deposit, {value}, is protected."],
                  ["How much is the deposit", "What deposit do tenants pay"]),
            _fact("due", "when", "date", _one_of("the 1st of each month", "the 15th of each month",
                                                 "the last working day of the month", "the 28th of each month"),
                  ["Rent is due on {value}.", "Payment falls due on {value}."],
                  ["When is the rent due", "When must the rent be paid"]),
            _fact("notice", "how long", "duration", _one_of("one month", "two months", "eight weeks", "six weeks"),
                  ["To leave, a tenant gives {value} of notice in writing.",
                   "A tenant who wants to move out must give {value} of written notice."],
                  ["How long is the notice a tenant must give", "How much notice must I give to move out"]),
            _fact("agent", "who", "person", _person,
                  ["The letting agent is {value}.", "{value} manages the property for the owner."],
                  ["Who is the letting agent", "Who manages the property"]),
            _fact("landlord", "who", "person", _person,
                  ["The landlord is {value}.", "{value} owns the property."],
                  ["Who is the landlord", "Who owns {address}"]),
            _fact("repairs", "how", "thing", _one_of("through the tenant portal", "by phone to the letting agent",
                                                     "by email to the landlord", "in writing to the agent"),
                  ["Repairs are reported {value}.", "Report anything broken {value}."],
                  ["How are repairs reported", "How do I report a broken boiler"]),
            _fact("increase", "what percentage", "percent", _number(2, 6, "%"),
                  ["The rent may rise once a year by no more than {value}.", "A yearly rise is capped at {value}."],
                  ["What percentage can the rent go up by each year", "By what percentage may the rent rise"]),
            _fact("pet", "which", "thing", _one_of("one cat", "a small dog", "a caged bird", "fish in a tank"),
                  ["The only pet allowed is {value}.", "Tenants may keep {value}, but no other pets."],
                  ["Which pet is allowed", "Which animal may tenants keep"]),
            _fact("bikes", "where", "place", _one_of("in the shed behind the house", "in the hallway",
                                                     "in the basement store", "in the yard"),
                  ["Bicycles are kept {value}.", "Store bikes {value}."],
                  ["Where are bicycles kept", "Where can I store my bike"])),
           ("Smoking is not allowed inside.", "The garden is shared with the flat upstairs.",
            "Keys are returned on the last day.")),
    Domain("release notes", "{app} {version}: what is new",
           {"app": _one_of("Tallyho", "Quillpad", "Riverbase", "Notchly", "Pathwise", "Ledgerly"),
            "version": lambda rng: f"{rng.randint(2, 9)}.{rng.randint(0, 9)}"},
           (_fact("date", "when", "date", _date,
                  ["Version {version} came out on {value}.", "It was released on {value}."],
                  ["When was {app} {version} released", "On what date did version {version} come out"]),
            _fact("support", "when", "date", _date,
                  ["The previous version gets security fixes until {value}.",
                   "Older versions are supported until {value}."],
                  ["Until when is the previous version supported", "When do security fixes for the old version end"]),
            _fact("feature", "what", "thing", _one_of("a dark mode", "offline editing", "two-step sign-in",
                                                      "shared folders", "a calendar view"),
                  ["The main new feature is {value}.", "This release adds {value}."],
                  ["What is the main new feature", "What does {app} {version} add"]),
            _fact("bug", "what", "thing", _one_of("lost notes on restart", "duplicated reminders",
                                                  "a frozen export screen", "wrong totals in reports"),
                  ["It fixes a bug that caused {value}.", "A fault behind {value} is fixed."],
                  ["What bug does this version fix", "What problem was fixed"]),
            _fact("speed", "what percentage", "percent", _number(10, 60, "%", 5),
                  ["Start-up is {value} faster.", "The app now opens {value} faster."],
                  ["What percentage faster is start-up", "By what percentage did start-up get faster"]),
            _fact("system", "which", "thing", _one_of("Android 12", "iOS 16", "Windows 11", "macOS 13"),
                  ["It needs {value} or newer.", "The oldest system it runs on is {value}."],
                  ["Which system version is needed at least", "Which operating system does it need"]),
            _fact("size", "how much", "quantity", _number(30, 180, " MB", 5),
                  ["The download is {value}.", "The update takes {value} to download."],
                  ["How much does the update weigh, in MB", "How much space does the download need"]),
            _fact("manager", "who", "person", _person,
                  ["Questions go to {value}, the release manager.", "{value} managed this release."],
                  ["Who is the release manager", "Who should questions about the release go to"]),
            _fact("update", "how", "thing", _one_of("from the settings menu", "through the app store",
                                                    "by downloading the installer again"),
                  ["Existing users update {value}.", "You get the new version {value}."],
                  ["How do existing users update", "How do I get the new version"])),
           ("Thanks to everyone who reported problems.", "Your data is kept during the update.",
            "A full list of changes is on the website.")),
    Domain("school notice", "{school}: {group} trip",
           {"school": lambda rng: f"{rng.choice(_TOWNS)} {rng.choice(['Primary School', 'Academy', 'High School'])}",
            "group": _one_of("Year 4", "Year 6", "Year 8", "Year 10")},
           (_fact("destination", "where", "place", _one_of("the county science centre", "Hollow Fell nature reserve",
                                                           "the city aquarium", "the old dockyard"),
                  ["{group} pupils are visiting {value}.", "The trip goes to {value}."],
                  ["Where is the {group} trip going", "Where are the pupils visiting"]),
            _fact("date", "when", "date", _date,
                  ["The trip takes place on {value}.", "We travel on {value}."],
                  ["When is the trip", "On what date does the {group} trip take place"]),
            _fact("deadline", "when", "date", _date,
                  ["Please return the consent form by {value}.", "Consent forms are due back by {value}."],
                  ["When is the consent form due", "By when must the consent form be returned"]),
            _fact("cost", "how much", "money", _pounds(8, 40),
                  ["The trip costs {value} per pupil.", "Each pupil pays {value}."],
                  ["How much does the trip cost", "How much is it per pupil"]),
            _fact("places", "how many", "count", _one_of("30 places", "45 places", "52 places", "60 places"),
                  ["There are {value} on the coach.", "The coach has {value}."],
                  ["How many places are there on the coach", "How many seats does the coach have"]),
            _fact("teacher", "who", "person", _person,
                  ["{value} is leading the trip.", "The trip is led by {value}."],
                  ["Who is leading the trip", "Which teacher is in charge of the trip"]),
            _fact("back", "when", "time", _clock(15, 17),
                  ["The coach should be back at school by {value}.", "We expect to return at {value}."],
                  ["When does the coach get back", "What time do the pupils return"]),
            _fact("bring", "what", "thing", _one_of("a packed lunch", "a waterproof coat", "a notebook and pencil",
                                                    "a named water bottle"),
                  ["Pupils should bring {value}.", "Every child needs {value}."],
                  ["What should pupils bring", "What does every child need on the day"]),
            _fact("payment", "how", "thing", _one_of("through the school app", "in cash at the office",
                                                     "by card at reception"),
                  ["Payments are made {value}.", "Pay {value}."],
                  ["How is the trip paid for", "How do parents pay"])),
           ("Uniform is worn on the day.", "Medicines must be handed to the teacher.",
            "Phones stay at home.")),
    Domain("event programme", "{town} {theme} festival: programme",
           {"town": _one_of(*_TOWNS), "theme": _one_of("food", "book", "folk music", "science", "garden")},
           (_fact("doors", "when", "time", _clock(9, 11),
                  ["Doors open at {value}.", "The gates open at {value}."],
                  ["When do the doors open", "What time can visitors come in"]),
            _fact("close", "when", "time", _clock(17, 20),
                  ["Everything closes at {value}.", "The day ends at {value}."],
                  ["When does the festival close", "What time does the day end"]),
            _fact("speaker", "who", "person", _person,
                  ["The main talk is given by {value}.", "{value} gives the main talk."],
                  ["Who gives the main talk", "Who is the main speaker"]),
            _fact("host", "who", "person", _person,
                  ["{value} hosts the day.", "Your host is {value}."],
                  ["Who hosts the festival", "Who is the host"]),
            _fact("venue", "where", "place", _one_of("the market square", "Elm Park", "the corn exchange",
                                                     "the castle grounds"),
                  ["Everything takes place in {value}.", "The festival is held in {value}."],
                  ["Where is the festival held", "Where does everything take place"]),
            _fact("ticket", "how much", "money", _pounds(6, 20),
                  ["A day ticket costs {value}.", "Day tickets are {value}."],
                  ["How much is a day ticket", "What does a ticket for the day cost"]),
            _fact("family", "how much", "money", _pounds(22, 45),
                  ["A family ticket is {value}.", "Families pay {value}."],
                  ["How much is a family ticket", "What do families pay"]),
            _fact("workshop", "how long", "duration", _one_of("45 minutes", "an hour", "90 minutes", "30 minutes"),
                  ["Each workshop lasts {value}.", "Workshops run for {value}."],
                  ["How long does a workshop last", "How long are the workshops"]),
            _fact("stalls", "how many", "count", _one_of("12 stalls", "25 stalls", "40 stalls", "18 stalls"),
                  ["There are {value} selling local produce.", "Local producers run {value}."],
                  ["How many stalls are there", "How many stalls sell local produce"]),
            _fact("getting_there", "how", "thing", _one_of("by the park-and-ride", "on foot or by bike",
                                                           "by train to the main station"),
                  ["Visitors are asked to come {value}.", "Please travel {value}."],
                  ["How should visitors travel to the festival", "How are we asked to get there"])),
           ("Dogs are welcome on a lead.", "Some events are free.", "Bring cash for the stalls.")),
)


# ---------------------------------------------------------------- passages and questions

def _occurrences(value: str, text: str) -> int:
    """How often `value` stands as whole words in `text`, ignoring case."""
    return len(re.findall(rf"(?<!\w){re.escape(value.lower())}(?!\w)", text.lower()))


def domain_passage(domain: Domain, rng: random.Random) -> Passage:
    """A passage of `domain` stating all but one or two of its facts (and a filler sentence), each
    answer written once, no left-out fact's value anywhere in it."""
    for _ in range(100):
        context = {key: value(rng) for key, value in domain.context.items()}
        values = {f.slot: f.value(rng).format(**context) for f in domain.facts}
        left_out = set(rng.sample([f.slot for f in domain.facts], rng.randint(1, 2)))
        stated = tuple(f for f in domain.facts if f.slot not in left_out)
        sentences = [rng.choice(f.sentences).format(value=values[f.slot], **context) for f in stated]
        sentences.append(rng.choice(domain.fillers))
        rng.shuffle(sentences)
        sentences = [s[0].upper() + s[1:] for s in sentences]
        cut = len(sentences) // 2 + rng.randint(-1, 1)
        text = f"# {domain.heading.format(**context)}\n\n{' '.join(sentences[:cut])}\n\n{' '.join(sentences[cut:])}\n"
        if all(_occurrences(values[f.slot], text) == (f.slot not in left_out) for f in domain.facts):
            return Passage(domain.name, text, context, values, stated,
                           tuple(f for f in domain.facts if f.slot in left_out))
    raise ValueError(f"the values of {domain.name!r} keep colliding: give its facts more distinct values")


def _ask(fact: Fact, context: dict[str, str], rng: random.Random) -> str:
    core = rng.choice(fact.cores).format(**context)
    text = compose_question(rng.choice(DOCUMENT_OPENERS), core, rng.choice(CLOSERS))
    return text.lower() if rng.random() < LOWER_CASE_SHARE else text


def passage_examples(passage: Passage, rng: random.Random) -> list[Example]:
    """QUESTIONS_A_PASSAGE questions the passage answers, the second about a fact whose answer looks like
    the first's when it states one; with probability UNANSWERABLE one about a fact it leaves out."""
    first = rng.choice(passage.stated)
    alike = [f for f in passage.stated if f.kind == first.kind and f is not first]
    asked = [first] + rng.sample(alike, 1 if alike else 0)
    rest = [f for f in passage.stated if f not in asked]
    asked += rng.sample(rest, min(len(rest), QUESTIONS_A_PASSAGE - len(asked)))
    examples = [Example(passage.text, _ask(f, passage.context, rng), passage.values[f.slot]) for f in asked]
    if rng.random() < UNANSWERABLE:
        examples.append(Example(passage.text, _ask(rng.choice(passage.left_out), passage.context, rng), UNKNOWN))
    return examples


def domain_passages(seed: int = 0) -> Iterator[tuple[Passage, list[Example]]]:
    """Endless passages with their questions, the domains in turn (in an order drawn with `seed`)."""
    rng = random.Random(seed)
    order = list(DOMAINS)
    rng.shuffle(order)
    while True:
        for domain in order:
            passage = domain_passage(domain, rng)
            yield passage, passage_examples(passage, rng)


def training_words(examples: list[Example]) -> int:
    """Words of the examples as the packed training pairs hold them: each passage once, every question
    and answer (recipes.reader_pairs)."""
    passages = dict.fromkeys(e.passage for e in examples)
    return sum(len(p.split()) for p in passages) + sum(len(e.question.split()) + len(e.answer.split())
                                                     for e in examples)


def with_other_domains(examples: list[Example], share: float, seed: int = 0) -> list[Example]:
    """`examples` (reader_data.reader_examples) with their last `share` of passages replaced by passages
    of other domains (domain_passages), word for word: as many training words as the replaced
    passages' (training_words), within one passage. share 0: `examples` as they are."""
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise ValueError(f"the share of passages from other domains is a number from 0 to 1; got {share!r}")
    if share == 0:
        return examples
    passages = list(dict.fromkeys(e.passage for e in examples))
    kept = set(passages[:round(len(passages) * (1 - share))])
    budget = training_words([e for e in examples if e.passage not in kept])
    others: list[Example] = []
    words = 0
    for _, asked in domain_passages(seed):
        if words >= budget:
            break
        others += asked
        words += training_words(asked)
    return [e for e in examples if e.passage in kept] + others

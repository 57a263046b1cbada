"""The cleaning rules of `recsys ingest`, in plain Python, for the Spark job (`ingest.py`).

Each function here mirrors one in `server/src/dataset/` (html.rs, fields.rs, json.rs, csv.rs,
input.rs) and `server/src/store/schema.rs`, down to the wording of the quarantine reasons, so
that the Spark job and `recsys ingest` store the same documents. A change there is a change here;
`server/tests/spark/` checks that both produce the same collections.

No Spark and no MongoDB in this module: `parse_line(format, number, line)` turns one line (its
bytes, as read) into a document (without `ingest`/`unknown_product`, added at write time) or a
quarantine reason.
"""

import csv
import datetime
import json
import re
import struct

# --- limits (dataset/input.rs, dataset/problem.rs) ---------------------------------------------
MAX_LINE = 64 << 20
MAX_RAW = 64 << 10
MAX_TIMESTAMP = 4_102_444_800
ASIN_LEN = 10
I64_MAX = (1 << 63) - 1
U32_MAX = (1 << 32) - 1

# Rust's `char::is_whitespace` (Unicode White_Space); Python's `str.isspace` differs (it also
# takes U+001C..U+001F), so the set is spelled out.
_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
      "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_WS_RUN = re.compile("[" + re.escape(_WS) + "]+")
_ASCII_WS = " \t\n\x0c\r"  # `u8::is_ascii_whitespace`


def rtrim(text):
    """Rust `str::trim`."""
    return text.strip(_WS)


def is_blank(line):
    """`parse::is_blank`: only ASCII whitespace."""
    return line.strip(_ASCII_WS) == ""


def rust_f64(value):
    """Rust's `Display` of an `f64` (no exponent, `7` for 7.0)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    if value == int(value):
        return str(int(value))
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(value, ".20f").rstrip("0")
    return text


def rust_debug(text):
    """Rust's `Debug` of a `str` (`{:?}`): quoted, with escapes."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\0":
            out.append("\\0")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


# --- html.rs -----------------------------------------------------------------------------------
_INLINE = {"a", "b", "i", "u", "em", "strong", "span", "font", "sup", "sub", "small", "big"}
_NAMED = {
    "amp": "&", "AMP": "&", "lt": "<", "LT": "<", "gt": ">", "GT": ">", "quot": '"',
    "QUOT": '"', "apos": "'", "nbsp": "\u00a0", "ndash": "–", "mdash": "—", "lsquo": "‘",
    "rsquo": "’", "ldquo": "“", "rdquo": "”", "hellip": "…", "bull": "•", "middot": "·",
    "copy": "©", "reg": "®", "trade": "™", "deg": "°", "frac12": "½", "times": "×",
    "eacute": "é", "egrave": "è", "aacute": "á", "agrave": "à", "iacute": "í", "oacute": "ó",
    "uacute": "ú", "ntilde": "ñ", "uuml": "ü", "ouml": "ö", "auml": "ä", "ccedil": "ç",
    "szlig": "ß", "euro": "€", "pound": "£",
}
_DEC = re.compile(r"\+?[0-9]+\Z")
_HEX = re.compile(r"\+?[0-9a-fA-F]+\Z")


def _ascii_alpha(ch):
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _ascii_alnum(ch):
    return _ascii_alpha(ch) or ("0" <= ch <= "9")


def clean(text):
    """`html::clean`: strips tags, decodes entities, collapses whitespace; None if empty."""
    collapsed = collapse_whitespace(decode_entities(strip_tags(text)))
    return collapsed or None


def clean_label(text):
    """`html::clean_label`: like `clean`, or the `alt` text of an image-only value."""
    cleaned = clean(text)
    if cleaned is not None:
        return cleaned
    start = text.find('alt="')
    if start < 0:
        return None
    start += len('alt="')
    end = text.find('"', start)
    if end < 0:
        return None
    return clean(text[start:end])


def clean_plain(text):
    """`html::clean_plain`: entities decoded, nothing else; None if blank."""
    if rtrim(text) == "":
        return None
    return decode_entities(text)


def _drop_leading_tag_tail(text):
    gt = text.find(">")
    if gt < 0:
        return text
    lt = text.find("<")
    if 0 <= lt < gt:
        return text
    head = text[:gt]
    if head.endswith("/") or '"' in head or "=" in head:
        return text[gt + 1:]
    return text


def _opens_tag(rest):
    if len(rest) < 2:
        return False
    ch = rest[1]
    return _ascii_alpha(ch) or ch in "/!?"


def _tag_end(rest):
    quote = None
    for i in range(1, len(rest)):
        ch = rest[i]
        if quote is None and ch in "\"'":
            quote = ch
        elif quote is not None and ch == quote:
            quote = None
        elif quote is None and ch == ">":
            return i
    return None


def _tag_name(body):
    body = body.lstrip("/")
    end = 0
    while end < len(body) and _ascii_alnum(body[end]):
        end += 1
    return body[:end]


def _skip_element_body(text, pos, name):
    lower = text[pos:].lower() if text[pos:].isascii() else _ascii_lower(text[pos:])
    at = lower.find("</" + name.lower())
    if at < 0:
        return len(text)
    after = pos + at
    gt = text.find(">", after)
    return len(text) if gt < 0 else gt + 1


def _ascii_lower(text):
    return "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in text)


def strip_tags(text):
    text = _drop_leading_tag_tail(text)
    if "<" not in text:
        return text
    out = []
    pos = 0
    while True:
        start = text.find("<", pos)
        if start < 0:
            break
        out.append(text[pos:start])
        rest = text[start:]
        if not _opens_tag(rest):
            out.append("<")
            pos = start + 1
            continue
        if rest.startswith("<!--"):
            end = rest.find("-->", 4)
            pos = len(text) if end < 0 else start + end + 3
            continue
        end = _tag_end(rest)
        if end is None:
            pos = len(text)
            break
        name = _tag_name(rest[1:end])
        pos = start + end + 1
        if name.lower() in ("script", "style") and name.isascii():
            pos = _skip_element_body(text, pos, name)
        if name.lower() not in _INLINE:
            out.append(" ")
    out.append(text[pos:])
    return "".join(out)


def _decode_one(text):
    # `text[..text.len().min(12)].find(';')`: a `;` within the first 12 bytes.
    semi = None
    used = 0
    for i, ch in enumerate(text):
        if used >= 12:
            break
        if ch == ";":
            semi = i
            break
        used += len(ch.encode("utf-8"))
    if semi is None:
        return None
    name = text[1:semi]
    if name.startswith("#"):
        number = name[1:]
        if number[:1] in ("x", "X"):
            digits = number[1:]
            if not _HEX.match(digits):
                return None
            code = int(digits, 16)
        else:
            if not _DEC.match(number):
                return None
            code = int(number)
        if code > U32_MAX or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code), semi + 1
    decoded = _NAMED.get(name)
    if decoded is None:
        return None
    return decoded, semi + 1


def decode_entities(text):
    if "&" not in text:
        return text
    out = []
    rest = text
    while True:
        amp = rest.find("&")
        if amp < 0:
            break
        out.append(rest[:amp])
        rest = rest[amp:]
        decoded = _decode_one(rest)
        if decoded is None:
            out.append("&")
            rest = rest[1:]
        else:
            out.append(decoded[0])
            rest = rest[decoded[1]:]
    out.append(rest)
    return "".join(out)


def collapse_whitespace(text):
    return " ".join(word for word in _WS_RUN.split(text) if word)


# --- fields.rs ---------------------------------------------------------------------------------
def rating(value):
    """`fields::rating`; returns the value as `f32` widened to `f64`, or raises Reason."""
    if value != value or value in (float("inf"), float("-inf")):
        raise Reason(f"rating not a number: {rust_f64(value)}")
    if not 1.0 <= value <= 5.0:
        raise Reason(f"rating {rust_f64(value)} out of range 1..=5")
    return struct.unpack("f", struct.pack("f", value))[0]


def parse_rating(text):
    trimmed = rtrim(text)
    if trimmed and all(c.isascii() and (c.isdigit() or c in ".-+") for c in trimmed):
        try:
            value = float(trimmed)
        except ValueError:
            value = None
        if value is not None:
            return rating(value)
    raise Reason(f"rating not a number: {rust_debug(text)}")


def timestamp(value):
    if value < 0:
        raise Reason(f"bad timestamp: {value} is before 1970")
    if value > MAX_TIMESTAMP:
        raise Reason(f"bad timestamp: {value} is after 2100 (milliseconds instead of seconds?)")
    return value


def timestamp_from_f64(value):
    finite = value == value and value not in (float("inf"), float("-inf"))
    if not finite or value != int(value) or abs(value) > 1e17:
        raise Reason(f"bad timestamp: {rust_f64(value)} is not a whole number of seconds")
    return timestamp(int(value))


def parse_timestamp(text):
    trimmed = rtrim(text)
    whole = trimmed
    if "." in trimmed:
        head, fraction = trimmed.split(".", 1)
        if all(c == "0" for c in fraction):
            whole = head
    digits = whole[1:] if whole.startswith("-") else whole
    if not digits or not all("0" <= c <= "9" for c in digits):
        raise Reason(f"bad timestamp: {rust_debug(text)} is not a whole number of seconds")
    value = int(whole)
    if not -(1 << 63) <= value <= I64_MAX:
        raise Reason(f"bad timestamp: {rust_debug(text)} is out of range")
    return timestamp(value)


_SIGNED = re.compile(r"[+-]?[0-9]+\Z")
_UNSIGNED = re.compile(r"\+?[0-9]+\Z")


def _days_in_month(year, month):
    if month in (4, 6, 9, 11):
        return 30
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 31


def parse_review_date(text):
    """`fields::parse_review_date`: `"02 28, 2014"` -> unix seconds at midnight UTC, or None."""
    trimmed = rtrim(text)
    if "," not in trimmed:
        return None
    month_day, year = trimmed.split(",", 1)
    month_day = rtrim(month_day)
    if " " not in month_day:
        return None
    month, day = month_day.split(" ", 1)
    year, month, day = rtrim(year), rtrim(month), rtrim(day)
    if not (_SIGNED.match(year) and _UNSIGNED.match(month) and _UNSIGNED.match(day)):
        return None
    year, month, day = int(year), int(month), int(day)
    if not 1970 <= year <= 2099 or not 1 <= month <= 12:
        return None
    if day == 0 or day > _days_in_month(year, month):
        return None
    return (datetime.date(year, month, day) - datetime.date(1970, 1, 1)).days * 86_400


def parse_votes(text):
    digits = rtrim(text).replace(",", "")
    if not _UNSIGNED.match(digits):
        return None
    value = int(digits)
    return value if value <= U32_MAX else None


def parse_price(text):
    first = rtrim(text).split(" - ")[0]
    amount = rtrim(first)
    if not amount.startswith("$"):
        return None
    digits = amount[1:].replace(",", "")
    if not digits or not all(c in "0123456789." for c in digits):
        return None
    try:
        price = float(digits)
    except ValueError:
        return None
    return price if price not in (float("inf"),) else None


def parse_rank(text):
    """`fields::parse_rank`: (rank, category or None), or None."""
    i = 0
    while i < len(text) and (text[i] in ">#" or text[i] in _WS):
        i += 1
    text = text[i:]
    n = 0
    while n < len(text) and (("0" <= text[n] <= "9") or text[n] == ","):
        n += 1
    digits = text[:n].replace(",", "")
    if not digits:
        return None
    rank = int(digits)
    if rank > (1 << 64) - 1:
        return None
    rest = text[n:].lstrip(_WS)
    category = None
    if rest.startswith("in "):
        category = clean(rest[3:].split("(")[0])
    return rank, category


def repair_asin(asin):
    if asin and len(asin) < ASIN_LEN and all("0" <= c <= "9" for c in asin):
        return asin.rjust(ASIN_LEN, "0"), True
    return asin, False


class Reason(Exception):
    """A record is malformed: the message is the quarantine reason."""


# --- json.rs -----------------------------------------------------------------------------------
def _reject_constant(name):
    raise ValueError(f"invalid number {name}")


def _loads(line):
    return json.loads(line, parse_constant=_reject_constant)


def _json_kind(first):
    return {"[": "an array", '"': "a string", "t": "a boolean", "f": "a boolean",
            "n": "null"}.get(first, "a number")


def from_line(line):
    """`json::from_line`: the line's JSON object, or the reason it is not one."""
    stripped = line.lstrip(_ASCII_WS)
    first = stripped[:1]
    if first != "{":
        try:
            _loads(line)
        except ValueError as error:
            raise Reason(f"not JSON: {error}") from None
        raise Reason(f"JSON but not an object ({_json_kind(first)})")
    try:
        value = _loads(line)
    except ValueError as error:
        raise Reason(f"not valid JSON: {error}") from None
    return value


def _scalar_kind(value):
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _is_int(value):
    """A JSON integer that serde_json reads as `i64` (larger ones become floats)."""
    return isinstance(value, int) and not isinstance(value, bool) and \
        -(1 << 63) <= value <= I64_MAX


def _is_float(value):
    return (isinstance(value, float)) or (
        isinstance(value, int) and not isinstance(value, bool) and not _is_int(value))


def _required(obj, key, name):
    value = obj.get(key)
    if value is None:
        raise Reason(f"missing field `{name}`")
    if isinstance(value, str):
        if rtrim(value) == "":
            raise Reason(f"empty field `{name}`")
        return value
    raise Reason(f"field `{name}` is {_scalar_kind(value)}, expected a string")


def _optional(obj, key):
    value = obj.get(key)
    if isinstance(value, str) and rtrim(value) != "":
        return value
    return None


def _str_list(value):
    """`StrList`: a string is a list of one; a list keeps its strings; anything else is empty."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _rating_fields(obj):
    """(user, asin, rating, seconds, repaired): `repaired` when the time came from
    `reviewTime` because `unixReviewTime` was missing or broken (`json::rating_from`)."""
    user = _required(obj, "reviewerID", "reviewerID")
    asin = _required(obj, "asin", "asin")
    overall = obj.get("overall")
    if overall is None:
        raise Reason("missing field `overall`")
    if _is_int(overall) or _is_float(overall):
        value = rating(float(overall))
    elif isinstance(overall, str):
        value = parse_rating(overall)
    else:
        raise Reason(f"rating not a number: {_scalar_kind(overall)}")
    unix = obj.get("unixReviewTime")
    repaired = False
    try:
        if unix is None:
            raise Reason("missing field `unixReviewTime`")
        if _is_int(unix):
            seconds = timestamp(unix)
        elif _is_float(unix):
            seconds = timestamp_from_f64(float(unix))
        elif isinstance(unix, str):
            seconds = parse_timestamp(unix)
        else:
            raise Reason(f"bad timestamp: `unixReviewTime` is {_scalar_kind(unix)}")
    except Reason:
        date = _optional(obj, "reviewTime")
        seconds = parse_review_date(date) if date is not None else None
        if seconds is None:
            raise
        repaired = True
    return user, asin, value, seconds, repaired


def _helpful(value):
    if not isinstance(value, list) or len(value) != 2:
        return None
    counts = []
    for item in value:
        if _is_int(item) and 0 <= item <= U32_MAX:
            counts.append(item)
        else:
            return None
    return counts[0], counts[1]


def review_fields(user, asin, value, seconds, verified=None, votes=None, helpful=None,
                  text=None, summary=None, reviewer_name=None):
    """`schema::review_fields`: the document's fields in the order recsys writes them."""
    from bson.int64 import Int64

    doc = {
        "user": user,
        "asin": asin,
        "rating": value,
        "time": datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc),
    }
    if verified is not None:
        doc["verified"] = verified
    if votes is None and helpful is not None:
        votes = helpful[0]
    if votes is not None:
        doc["votes"] = Int64(votes)
    if helpful is not None:
        doc["votes_total"] = Int64(helpful[1])
    for key, val in (("text", text), ("summary", summary), ("reviewer_name", reviewer_name)):
        if val is not None:
            doc[key] = val
    return doc


def parse_review(line):
    """(user, asin, seconds, fields, repaired)."""
    obj = from_line(line)
    verified = obj.get("verified")
    verified = verified if isinstance(verified, bool) else None
    vote = obj.get("vote")
    votes = None
    if _is_int(vote):
        votes = vote if 0 <= vote <= U32_MAX else None
    elif isinstance(vote, str):
        votes = parse_votes(vote)
    texts = []
    for key in ("reviewText", "summary", "reviewerName"):
        value = _optional(obj, key)
        texts.append(clean_plain(value) if value is not None else None)
    helpful = _helpful(obj.get("helpful"))
    user, asin, value, seconds, repaired = _rating_fields(obj)
    return user, asin, seconds, review_fields(
        user, asin, value, seconds, verified, votes, helpful, *texts), repaired


def _clean_list(values):
    return [cleaned for cleaned in (clean(v) for v in values) if cleaned is not None]


def parse_product(line):
    """A metadata line: (asin, `schema::product_fields`)."""
    from bson.int64 import Int64

    obj = from_line(line)
    asin = _required(obj, "asin", "asin")
    price_text = _optional(obj, "price")
    price = parse_price(price_text) if price_text is not None else None
    raw = rtrim(price_text) if price_text is not None else None
    title = _optional(obj, "title")
    brand = _optional(obj, "brand")
    paragraphs = _clean_list(_str_list(obj.get("description")))
    main_cat = _optional(obj, "main_cat")
    rank = None
    for entry in _str_list(obj.get("rank")):
        rank = parse_rank(entry)
        if rank is not None:
            break
    if price is not None and raw is not None:
        changed = raw != f"${price:.2f}"
    else:
        changed = raw is not None
    doc = {
        "title": clean(title) if title is not None else None,
        "brand": clean(brand) if brand is not None else None,
        "categories": _clean_list(_str_list(obj.get("category"))),
        "description": "\n".join(paragraphs) if paragraphs else None,
        "price": price,
        "price_raw": raw if changed else None,
        "price_invalid": price is None and raw is not None,
        "also_buy": [s for s in (rtrim(v) for v in _str_list(obj.get("also_buy"))) if s],
        "also_view": [s for s in (rtrim(v) for v in _str_list(obj.get("also_view"))) if s],
        "main_cat": clean_label(main_cat) if main_cat is not None else None,
        "rank": Int64(min(rank[0], I64_MAX)) if rank is not None else None,
        "rank_category": rank[1] if rank is not None else None,
    }
    return asin, doc


# --- csv.rs ------------------------------------------------------------------------------------
MAX_FIELDS = 8


def _split_fields(line):
    if '"' in line:
        try:
            rows = list(csv.reader([line], strict=True))
        except csv.Error as error:
            raise Reason(f"bad CSV row: {error}") from None
        if not rows:
            raise Reason("empty CSV row")
        values = rows[0]
    else:
        values = line.split(",")
    if len(values) > MAX_FIELDS:
        raise Reason(f"wrong column count: more than {MAX_FIELDS} fields")
    return values


def _four(values, layout, extra_column):
    counted = values[:-1] if values and rtrim(values[-1]) == "" else values
    if len(counted) != 4 and not (extra_column and len(counted) == 5):
        raise Reason(f"wrong column count: {len(counted)} fields, expected 4 ({layout})")
    return values[:4]


def _id(value, name):
    trimmed = rtrim(value)
    if not trimmed:
        raise Reason(f"empty field `{name}`")
    return trimmed


def _ascii_lower(text):
    """`eq_ignore_ascii_case`: only ASCII letters fold (`"\u212a".lower()` is "k")."""
    return text.lower() if text.isascii() else text


def is_kaggle_header(line):
    columns = [_ascii_lower(c.strip(_ASCII_WS)) for c in line.split(",")]
    return len(columns) >= 2 and columns[0] == "userid" and columns[1] == "productid"


def is_ratings_header(line):
    """`csv::is_ratings_header`: `item,user,rating,timestamp` (any case, an empty fifth column)."""
    columns = [_ascii_lower(c.strip(_ASCII_WS)) for c in line.split(",")]
    if len(columns) == 5 and columns[4] == "":
        columns.pop()
    return columns == ["item", "user", "rating", "timestamp"]


def parse_ratings_row(line):
    """(user, item, rating, seconds, repaired)."""
    item, user, value, seconds = _four(_split_fields(line), "item,user,rating,timestamp", False)
    item = _id(item, "item")
    user = _id(user, "user")
    return user, item, parse_rating(value), parse_timestamp(seconds), False


def parse_kaggle_row(line):
    """(user, item, rating, seconds, repaired), `repaired` when zeros were restored to the
    ASIN; None for the header."""
    if is_kaggle_header(line):
        return None
    user, item, value, seconds = _four(
        _split_fields(line), "UserId,ProductId,Rating,Timestamp", True)
    user = _id(user, "UserId")
    item, repaired = repair_asin(_id(item, "ProductId"))
    return user, item, parse_rating(value), parse_timestamp(seconds), repaired


# --- formats (dataset/format.rs) ---------------------------------------------------------------
REVIEWS, METADATA, RATINGS_CSV, KAGGLE_CSV = "reviews", "metadata", "ratings-csv", "kaggle-csv"
FORMATS = (REVIEWS, METADATA, RATINGS_CSV, KAGGLE_CSV)


def sniff_line(line):
    """`format::sniff_line` for the formats that are ingested; None if no match."""
    if line.lstrip(_ASCII_WS).startswith("{"):
        try:
            obj = _loads(line)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            if "reviewerID" in obj:
                return REVIEWS
            if "asin" in obj:
                return METADATA
    if is_kaggle_header(line):
        return KAGGLE_CSV
    columns = line.split(",")
    if len(columns) == 5 and rtrim(columns[4]) == "":
        columns.pop()
    if len(columns) == 4 and rtrim(columns[0]) and rtrim(columns[1]):
        try:
            parse_rating(columns[2])
            parse_timestamp(columns[3])
            return RATINGS_CSV
        except Reason:
            return None
    return None


# --- one line ----------------------------------------------------------------------------------
def raw_text(data, length=None):
    """`Problem::new`: the line's bytes cut to MAX_RAW, invalid UTF-8 replaced (as
    `String::from_utf8_lossy`), with a marker giving its full length."""
    length = len(data) if length is None else length
    text = data[:MAX_RAW].decode("utf-8", "replace")
    if length > min(len(data), MAX_RAW):
        text += f" …[truncated, {length} bytes in all]"
    return text


def utf8_error(error):
    """Rust's `Display` of the `Utf8Error` a `UnicodeDecodeError` stands for."""
    if error.reason == "unexpected end of data":
        return f"incomplete utf-8 byte sequence from index {error.start}"
    return f"invalid utf-8 sequence of {error.end - error.start} bytes from index {error.start}"


SEPARATOR = "|"


def ambiguous_id(user, asin):
    """`ingest::source::ambiguous_id`: a review whose user id or ASIN holds the `|` that joins
    them in its `_id` could take another review's `_id`, so it is quarantined."""
    field = "user id" if SEPARATOR in user else "ASIN" if SEPARATOR in asin else None
    if field is None:
        return None
    return f"`|` in the {field}: it separates user, ASIN and time in a review `_id`"


def parse_line(fmt, number, data):
    """One line of a file of format `fmt`, 1-based `number`, as read: its bytes, without the
    `\\n` (`recsys ingest` reads bytes too, so a line that is not UTF-8 is quarantined, not
    repaired).

    Returns None for a line that is not a record (blank, a CSV header), ("problem", reason, raw)
    for a malformed one, or ("record", _id, fields, repaired) with the document's fields in
    recsys' order (`_id`, `ingest` and `unknown_product` are added by the writer) and whether a
    documented repair was needed.
    """
    if data.endswith(b"\r"):
        data = data[:-1]
    if number == 1 and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    length = len(data)
    if length > MAX_LINE:
        return ("problem",
                f"line of {length} bytes is longer than the limit of {MAX_LINE} bytes",
                raw_text(data[:MAX_RAW], length))
    if number == 1 and fmt == RATINGS_CSV and \
            is_ratings_header(data.decode("utf-8", "replace")):
        return None
    if data.strip(_ASCII_WS.encode()) == b"":
        return None
    try:
        line = data.decode("utf-8")
    except UnicodeDecodeError as error:
        if fmt in (METADATA, REVIEWS):
            reason = f"not UTF-8: invalid byte at offset {error.start}"
        elif fmt == KAGGLE_CSV and is_kaggle_header(data.decode("utf-8", "replace")):
            return None
        else:
            reason = f"not valid UTF-8: {utf8_error(error)}"
        return ("problem", reason, raw_text(data))
    try:
        if fmt == METADATA:
            asin, fields = parse_product(line)
            return ("record", asin, fields, False)
        if fmt == REVIEWS:
            user, asin, seconds, fields, repaired = parse_review(line)
        else:
            row = parse_ratings_row(line) if fmt == RATINGS_CSV else parse_kaggle_row(line)
            if row is None:
                return None
            user, asin, value, seconds, repaired = row
            fields = review_fields(user, asin, value, seconds)
        refused = ambiguous_id(user, asin)
        if refused is not None:
            return ("problem", refused, raw_text(data))
        return ("record", f"{user}|{asin}|{seconds}", fields, repaired)
    except Reason as reason:
        return ("problem", str(reason), raw_text(data))

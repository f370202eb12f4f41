/* Copyright (c) dovecot-readreceipt authors */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "strnum.h"
#include "str-sanitize.h"
#include "unichar.h"
#include "readreceipt-pending.h"

/* The value is read and written by this file alone rather than with lib's
   JSON helpers: json-parser takes raw control characters and invalid UTF-8
   inside strings, and json_append_escaped() leaves DEL raw. An entry is
   also set by clients (SETMETADATA) and doveadm, so it is checked fully.
   Every loop advances over the input, which is at most
   READRECEIPT_PENDING_JSON_MAX bytes; only the skipping of unknown values
   recurses, and that is bounded by this many levels of objects and arrays,
   the root object being the first. */
#define READRECEIPT_PENDING_JSON_MAX_DEPTH 16
/* the level of a value in the root object */
#define READRECEIPT_PENDING_MEMBER_DEPTH 2

/* A value quoted in an error message is cut to this many bytes. */
#define READRECEIPT_PENDING_ERROR_VALUE_MAX_LEN 64

#define READRECEIPT_PENDING_HAVE_TO		0x01
#define READRECEIPT_PENDING_HAVE_SUBJECT	0x02
#define READRECEIPT_PENDING_HAVE_MESSAGE_ID	0x04
#define READRECEIPT_PENDING_HAVE_REASON		0x08
#define READRECEIPT_PENDING_HAVE_SINCE		0x10

static const char *const readreceipt_pending_reasons[] = {
	READRECEIPT_PENDING_REASON_PROMPT,
	READRECEIPT_PENDING_REASON_CONSENT_REQUIRED,
	READRECEIPT_PENDING_REASON_UNPROMPTED,
	READRECEIPT_PENDING_REASON_RETRY,
	READRECEIPT_PENDING_REASON_RATE_LIMITED,
};

static const struct {
	unsigned int bit;
	const char *key;
} readreceipt_pending_keys[] = {
	{ READRECEIPT_PENDING_HAVE_TO, "to" },
	{ READRECEIPT_PENDING_HAVE_SUBJECT, "subject" },
	{ READRECEIPT_PENDING_HAVE_MESSAGE_ID, "message_id" },
	{ READRECEIPT_PENDING_HAVE_REASON, "reason" },
	{ READRECEIPT_PENDING_HAVE_SINCE, "since" },
};

struct readreceipt_pending_parser {
	pool_t pool;
	const unsigned char *start, *data, *end;
	/* the last string parsed, decoded (scratch, reused) */
	string_t *value;
	const char *error;
};

/*
 * Writing
 */

static void
readreceipt_pending_append_string(string_t *out, const char *value)
{
	const unsigned char *data = (const unsigned char *)value;
	size_t i, size = strlen(value);
	unichar_t chr;
	int len;

	str_append_c(out, '"');
	for (i = 0; i < size; ) {
		if (data[i] < 0x80) {
			if (data[i] == '"' || data[i] == '\\') {
				str_append_c(out, '\\');
				str_append_c(out, data[i]);
			} else if (data[i] < 0x20 || data[i] == 0x7f) {
				/* one form for every control character: DEL
				   is valid raw JSON, but a client showing the
				   value should not get it */
				str_printfa(out, "\\u%04x", data[i]);
			} else {
				str_append_c(out, data[i]);
			}
			i++;
			continue;
		}
		len = uni_utf8_get_char_n(data + i, size - i, &chr);
		if (len <= 0) {
			/* Each byte that does not start a valid sequence
			   (stray continuation byte, overlong form, surrogate,
			   beyond U+10FFFF, cut at the end) becomes one
			   U+FFFD; the next byte is looked at on its own. */
			str_append(out, UNICODE_REPLACEMENT_CHAR_UTF8);
			i++;
			continue;
		}
		if ((chr >= 0x80 && chr <= 0x9f) ||
		    chr == 0x2028 || chr == 0x2029) {
			/* C1 controls, and the separators that end a line
			   in JavaScript */
			str_printfa(out, "\\u%04x", chr);
		} else {
			str_append_data(out, data + i, len);
		}
		i += len;
	}
	str_append_c(out, '"');
}

void readreceipt_pending_to_json(const struct readreceipt_pending *pending,
				 string_t *out)
{
	const char *addr;
	bool first = TRUE;

	str_append(out, "{\"to\":[");
	if (array_is_created(&pending->to)) {
		array_foreach_elem(&pending->to, addr) {
			if (!first)
				str_append_c(out, ',');
			first = FALSE;
			readreceipt_pending_append_string(out,
				addr == NULL ? "" : addr);
		}
	}
	/* A missing subject or Message-ID is written as "", which is what
	   the reader gives back for an original without one. */
	str_append(out, "],\"subject\":");
	readreceipt_pending_append_string(out,
		pending->subject == NULL ? "" : pending->subject);
	str_append(out, ",\"message_id\":");
	readreceipt_pending_append_string(out,
		pending->message_id == NULL ? "" : pending->message_id);
	str_append(out, ",\"reason\":");
	readreceipt_pending_append_string(out,
		pending->reason == NULL ? "" : pending->reason);
	str_printfa(out, ",\"since\":%lld}", (long long)pending->since);
}

/*
 * Parsing
 */

static void
readreceipt_pending_syntax_error(struct readreceipt_pending_parser *parser,
				 const char *expected)
{
	size_t offset = parser->data - parser->start;
	unsigned char c;

	if (parser->data >= parser->end) {
		parser->error = t_strdup_printf(
			"Unexpected end of the value (expected %s)", expected);
		return;
	}
	c = *parser->data;
	if (c > 0x20 && c < 0x7f) {
		parser->error = t_strdup_printf(
			"Unexpected '%c' at offset %zu (expected %s)",
			c, offset, expected);
	} else {
		parser->error = t_strdup_printf(
			"Unexpected byte 0x%02x at offset %zu (expected %s)",
			c, offset, expected);
	}
}

static void
readreceipt_pending_skip_ws(struct readreceipt_pending_parser *parser)
{
	while (parser->data < parser->end &&
	       (*parser->data == ' ' || *parser->data == '\t' ||
		*parser->data == '\r' || *parser->data == '\n'))
		parser->data++;
}

static bool
readreceipt_pending_skip_char(struct readreceipt_pending_parser *parser,
			      unsigned char c)
{
	readreceipt_pending_skip_ws(parser);
	if (parser->data < parser->end && *parser->data == c) {
		parser->data++;
		return TRUE;
	}
	return FALSE;
}

static int
readreceipt_pending_parse_hex4(struct readreceipt_pending_parser *parser,
			       unichar_t *chr_r)
{
	unichar_t chr = 0;
	unsigned int i;
	unsigned char c;

	for (i = 0; i < 4; i++) {
		if (parser->data >= parser->end) {
			readreceipt_pending_syntax_error(parser,
							 "a hex digit");
			return -1;
		}
		c = *parser->data;
		if (c >= '0' && c <= '9')
			chr = chr * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			chr = chr * 16 + (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			chr = chr * 16 + (c - 'A' + 10);
		else {
			readreceipt_pending_syntax_error(parser,
							 "a hex digit");
			return -1;
		}
		parser->data++;
	}
	*chr_r = chr;
	return 0;
}

/* After "\u": append the character of one escape, or of a surrogate
   pair. */
static int
readreceipt_pending_parse_unicode(struct readreceipt_pending_parser *parser)
{
	size_t offset = parser->data - parser->start - 2;
	unichar_t chr, low;

	if (readreceipt_pending_parse_hex4(parser, &chr) < 0)
		return -1;
	if (UTF16_VALID_LOW_SURROGATE(chr)) {
		parser->error = t_strdup_printf(
			"Unpaired surrogate \\u%04x at offset %zu",
			chr, offset);
		return -1;
	}
	if (UTF16_VALID_HIGH_SURROGATE(chr)) {
		if (parser->end - parser->data < 2 ||
		    parser->data[0] != '\\' || parser->data[1] != 'u') {
			parser->error = t_strdup_printf(
				"Unpaired surrogate \\u%04x at offset %zu",
				chr, offset);
			return -1;
		}
		parser->data += 2;
		if (readreceipt_pending_parse_hex4(parser, &low) < 0)
			return -1;
		if (!UTF16_VALID_LOW_SURROGATE(low)) {
			parser->error = t_strdup_printf(
				"Unpaired surrogate \\u%04x at offset %zu",
				chr, offset);
			return -1;
		}
		chr = uni_join_surrogate(chr, low);
	}
	if (chr == 0) {
		/* the value ends up in NUL-terminated strings */
		parser->error = t_strdup_printf(
			"NUL character (\\u0000) at offset %zu",
			offset);
		return -1;
	}
	uni_ucs4_to_utf8_c(chr, parser->value);
	return 0;
}

static int
readreceipt_pending_parse_escape(struct readreceipt_pending_parser *parser)
{
	unsigned char c;

	/* at the backslash */
	parser->data++;
	if (parser->data >= parser->end) {
		readreceipt_pending_syntax_error(parser, "an escape");
		return -1;
	}
	c = *parser->data++;
	switch (c) {
	case '"':
	case '\\':
	case '/':
		str_append_c(parser->value, c);
		return 0;
	case 'b':
		str_append_c(parser->value, '\b');
		return 0;
	case 'f':
		str_append_c(parser->value, '\f');
		return 0;
	case 'n':
		str_append_c(parser->value, '\n');
		return 0;
	case 'r':
		str_append_c(parser->value, '\r');
		return 0;
	case 't':
		str_append_c(parser->value, '\t');
		return 0;
	case 'u':
		return readreceipt_pending_parse_unicode(parser);
	}
	parser->data--;
	readreceipt_pending_syntax_error(parser, "an escape");
	return -1;
}

/* At the opening quote: decode the string into parser->value. */
static int
readreceipt_pending_parse_string(struct readreceipt_pending_parser *parser)
{
	unichar_t chr;
	unsigned char c;
	int len;

	i_assert(parser->data < parser->end && *parser->data == '"');
	parser->data++;

	str_truncate(parser->value, 0);
	for (;;) {
		if (parser->data >= parser->end) {
			readreceipt_pending_syntax_error(parser, "'\"'");
			return -1;
		}
		c = *parser->data;
		if (c == '"') {
			parser->data++;
			return 0;
		}
		if (c == '\\') {
			if (readreceipt_pending_parse_escape(parser) < 0)
				return -1;
		} else if (c < 0x20) {
			readreceipt_pending_syntax_error(parser,
				"an escaped control character");
			return -1;
		} else if (c < 0x80) {
			str_append_c(parser->value, c);
			parser->data++;
		} else {
			len = uni_utf8_get_char_n(parser->data,
				parser->end - parser->data, &chr);
			if (len <= 0) {
				parser->error = t_strdup_printf(
					"Invalid UTF-8 at offset %zu",
					(size_t)(parser->data - parser->start));
				return -1;
			}
			str_append_data(parser->value, parser->data, len);
			parser->data += len;
		}
	}
}

struct readreceipt_pending_number {
	const unsigned char *digits;
	size_t digits_len;
	bool negative;
	/* it has a fraction or an exponent */
	bool fractional;
};

static void
readreceipt_pending_skip_digits(struct readreceipt_pending_parser *parser)
{
	while (parser->data < parser->end &&
	       *parser->data >= '0' && *parser->data <= '9')
		parser->data++;
}

/* At '-' or a digit: a number as RFC 8259 section 6 has it. */
static int
readreceipt_pending_parse_number(struct readreceipt_pending_parser *parser,
				 struct readreceipt_pending_number *num_r)
{
	i_zero(num_r);
	if (*parser->data == '-') {
		num_r->negative = TRUE;
		parser->data++;
	}
	num_r->digits = parser->data;
	if (parser->data >= parser->end ||
	    *parser->data < '0' || *parser->data > '9') {
		readreceipt_pending_syntax_error(parser, "a digit");
		return -1;
	}
	if (*parser->data == '0')
		parser->data++;
	else
		readreceipt_pending_skip_digits(parser);
	num_r->digits_len = parser->data - num_r->digits;

	if (parser->data < parser->end && *parser->data == '.') {
		num_r->fractional = TRUE;
		parser->data++;
		if (parser->data >= parser->end ||
		    *parser->data < '0' || *parser->data > '9') {
			readreceipt_pending_syntax_error(parser, "a digit");
			return -1;
		}
		readreceipt_pending_skip_digits(parser);
	}
	if (parser->data < parser->end &&
	    (*parser->data == 'e' || *parser->data == 'E')) {
		num_r->fractional = TRUE;
		parser->data++;
		if (parser->data < parser->end &&
		    (*parser->data == '+' || *parser->data == '-'))
			parser->data++;
		if (parser->data >= parser->end ||
		    *parser->data < '0' || *parser->data > '9') {
			readreceipt_pending_syntax_error(parser, "a digit");
			return -1;
		}
		readreceipt_pending_skip_digits(parser);
	}
	return 0;
}

static int
readreceipt_pending_skip_literal(struct readreceipt_pending_parser *parser,
				 const char *literal)
{
	size_t len = strlen(literal);

	if ((size_t)(parser->end - parser->data) < len ||
	    memcmp(parser->data, literal, len) != 0) {
		readreceipt_pending_syntax_error(parser, "a value");
		return -1;
	}
	parser->data += len;
	return 0;
}

static int
readreceipt_pending_skip_value(struct readreceipt_pending_parser *parser,
			       unsigned int depth);

static int
readreceipt_pending_skip_container(struct readreceipt_pending_parser *parser,
				   unsigned int depth)
{
	bool object = *parser->data == '{';
	unsigned char close = object ? '}' : ']';

	if (depth > READRECEIPT_PENDING_JSON_MAX_DEPTH) {
		parser->error = t_strdup_printf(
			"Nested more than %u levels deep at offset %zu",
			READRECEIPT_PENDING_JSON_MAX_DEPTH,
			(size_t)(parser->data - parser->start));
		return -1;
	}
	parser->data++;
	if (readreceipt_pending_skip_char(parser, close))
		return 0;
	do {
		if (object) {
			readreceipt_pending_skip_ws(parser);
			if (parser->data >= parser->end ||
			    *parser->data != '"') {
				readreceipt_pending_syntax_error(parser,
								 "a key");
				return -1;
			}
			if (readreceipt_pending_parse_string(parser) < 0)
				return -1;
			if (!readreceipt_pending_skip_char(parser, ':')) {
				readreceipt_pending_syntax_error(parser,
								 "':'");
				return -1;
			}
		}
		if (readreceipt_pending_skip_value(parser, depth + 1) < 0)
			return -1;
	} while (readreceipt_pending_skip_char(parser, ','));

	if (!readreceipt_pending_skip_char(parser, close)) {
		readreceipt_pending_syntax_error(parser,
			object ? "',' or '}'" : "',' or ']'");
		return -1;
	}
	return 0;
}

/* Skip any value: an unknown key's, or one of the wrong type. depth is
   its level, were it an object or array. */
static int
readreceipt_pending_skip_value(struct readreceipt_pending_parser *parser,
			       unsigned int depth)
{
	struct readreceipt_pending_number num;

	readreceipt_pending_skip_ws(parser);
	if (parser->data >= parser->end) {
		readreceipt_pending_syntax_error(parser, "a value");
		return -1;
	}
	switch (*parser->data) {
	case '"':
		return readreceipt_pending_parse_string(parser);
	case '{':
	case '[':
		return readreceipt_pending_skip_container(parser, depth);
	case 't':
		return readreceipt_pending_skip_literal(parser, "true");
	case 'f':
		return readreceipt_pending_skip_literal(parser, "false");
	case 'n':
		return readreceipt_pending_skip_literal(parser, "null");
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return readreceipt_pending_parse_number(parser, &num);
	}
	readreceipt_pending_syntax_error(parser, "a value");
	return -1;
}

/* A string value, allocated from the pool. type_error is the error when
   the value is valid JSON of another type. */
static int
readreceipt_pending_get_string(struct readreceipt_pending_parser *parser,
			       const char *type_error,
			       const char **value_r)
{
	readreceipt_pending_skip_ws(parser);
	if (parser->data >= parser->end || *parser->data != '"') {
		/* skipped to tell a wrong type from a syntax error */
		if (readreceipt_pending_skip_value(parser,
				READRECEIPT_PENDING_MEMBER_DEPTH) == 0)
			parser->error = type_error;
		return -1;
	}
	if (readreceipt_pending_parse_string(parser) < 0)
		return -1;
	*value_r = p_strdup(parser->pool, str_c(parser->value));
	return 0;
}

static int
readreceipt_pending_parse_to(struct readreceipt_pending_parser *parser,
			     struct readreceipt_pending *pending)
{
	const char *addr;

	readreceipt_pending_skip_ws(parser);
	if (parser->data >= parser->end || *parser->data != '[') {
		if (readreceipt_pending_skip_value(parser,
				READRECEIPT_PENDING_MEMBER_DEPTH) == 0)
			parser->error = "\"to\" is not an array";
		return -1;
	}
	parser->data++;
	if (readreceipt_pending_skip_char(parser, ']')) {
		parser->error = "\"to\" has no address";
		return -1;
	}
	do {
		if (readreceipt_pending_get_string(parser,
				"\"to\" has an item that is not a string",
				&addr) < 0)
			return -1;
		/* a normalized address is never empty; an empty one could
		   not be sent to */
		if (addr[0] == '\0') {
			parser->error = "\"to\" has an empty address";
			return -1;
		}
		array_push_back(&pending->to, &addr);
	} while (readreceipt_pending_skip_char(parser, ','));

	if (!readreceipt_pending_skip_char(parser, ']')) {
		readreceipt_pending_syntax_error(parser, "',' or ']'");
		return -1;
	}
	return 0;
}

static int
readreceipt_pending_parse_reason(struct readreceipt_pending_parser *parser,
				 struct readreceipt_pending *pending)
{
	const char *reason;
	unsigned int i;

	if (readreceipt_pending_get_string(parser,
			"\"reason\" is not a string", &reason) < 0)
		return -1;
	for (i = 0; i < N_ELEMENTS(readreceipt_pending_reasons); i++) {
		if (strcmp(reason, readreceipt_pending_reasons[i]) == 0) {
			/* the constant, so callers may compare pointers or
			   strings alike */
			pending->reason = readreceipt_pending_reasons[i];
			return 0;
		}
	}
	parser->error = t_strdup_printf("Unknown \"reason\" \"%s\"",
		str_sanitize(reason, READRECEIPT_PENDING_ERROR_VALUE_MAX_LEN));
	return -1;
}

static int
readreceipt_pending_parse_since(struct readreceipt_pending_parser *parser,
				struct readreceipt_pending *pending)
{
	struct readreceipt_pending_number num;
	uintmax_t value;
	time_t since;

	readreceipt_pending_skip_ws(parser);
	if (parser->data >= parser->end ||
	    (*parser->data != '-' &&
	     (*parser->data < '0' || *parser->data > '9'))) {
		if (readreceipt_pending_skip_value(parser,
				READRECEIPT_PENDING_MEMBER_DEPTH) == 0)
			parser->error = "\"since\" is not a number";
		return -1;
	}
	if (readreceipt_pending_parse_number(parser, &num) < 0)
		return -1;
	if (num.negative) {
		parser->error = "\"since\" is negative";
		return -1;
	}
	if (num.fractional) {
		parser->error = "\"since\" is not an integer";
		return -1;
	}
	/* out of range also when time_t cannot hold it */
	since = (time_t)-1;
	if (str_to_uintmax(t_strndup(num.digits, num.digits_len),
			   &value) == 0) {
		since = (time_t)value;
		if ((uintmax_t)since != value)
			since = (time_t)-1;
	}
	if (since < 0) {
		parser->error = "\"since\" is out of range";
		return -1;
	}
	pending->since = since;
	return 0;
}

static int
readreceipt_pending_parse_member(struct readreceipt_pending_parser *parser,
				 struct readreceipt_pending *pending,
				 unsigned int *have)
{
	const char *key;
	unsigned int i, bit = 0;
	int ret;

	readreceipt_pending_skip_ws(parser);
	if (parser->data >= parser->end || *parser->data != '"') {
		readreceipt_pending_syntax_error(parser, "a key");
		return -1;
	}
	if (readreceipt_pending_parse_string(parser) < 0)
		return -1;
	key = t_strdup(str_c(parser->value));
	if (!readreceipt_pending_skip_char(parser, ':')) {
		readreceipt_pending_syntax_error(parser, "':'");
		return -1;
	}

	for (i = 0; i < N_ELEMENTS(readreceipt_pending_keys); i++) {
		if (strcmp(key, readreceipt_pending_keys[i].key) == 0)
			bit = readreceipt_pending_keys[i].bit;
	}
	if (bit == 0)
		return readreceipt_pending_skip_value(parser,
			READRECEIPT_PENDING_MEMBER_DEPTH);
	/* RFC 8259 leaves it to the reader which of two values counts;
	   another reader might pick the other one */
	if ((*have & bit) != 0) {
		parser->error = t_strdup_printf("Duplicate key \"%s\"", key);
		return -1;
	}
	*have |= bit;

	switch (bit) {
	case READRECEIPT_PENDING_HAVE_TO:
		ret = readreceipt_pending_parse_to(parser, pending);
		break;
	case READRECEIPT_PENDING_HAVE_SUBJECT:
		ret = readreceipt_pending_get_string(parser,
			"\"subject\" is not a string", &pending->subject);
		break;
	case READRECEIPT_PENDING_HAVE_MESSAGE_ID:
		ret = readreceipt_pending_get_string(parser,
			"\"message_id\" is not a string",
			&pending->message_id);
		break;
	case READRECEIPT_PENDING_HAVE_REASON:
		ret = readreceipt_pending_parse_reason(parser, pending);
		break;
	case READRECEIPT_PENDING_HAVE_SINCE:
		ret = readreceipt_pending_parse_since(parser, pending);
		break;
	default:
		i_unreached();
	}
	return ret;
}

static int
readreceipt_pending_parse(struct readreceipt_pending_parser *parser,
			  struct readreceipt_pending *pending)
{
	unsigned int i, have = 0;

	readreceipt_pending_skip_ws(parser);
	if (parser->data >= parser->end || *parser->data != '{') {
		readreceipt_pending_syntax_error(parser, "'{'");
		return -1;
	}
	parser->data++;
	if (!readreceipt_pending_skip_char(parser, '}')) {
		do {
			if (readreceipt_pending_parse_member(parser, pending,
							     &have) < 0)
				return -1;
		} while (readreceipt_pending_skip_char(parser, ','));
		if (!readreceipt_pending_skip_char(parser, '}')) {
			readreceipt_pending_syntax_error(parser,
							 "',' or '}'");
			return -1;
		}
	}
	readreceipt_pending_skip_ws(parser);
	if (parser->data < parser->end) {
		readreceipt_pending_syntax_error(parser,
						 "nothing after the object");
		return -1;
	}

	for (i = 0; i < N_ELEMENTS(readreceipt_pending_keys); i++) {
		if ((have & readreceipt_pending_keys[i].bit) == 0) {
			parser->error = t_strdup_printf("Missing key \"%s\"",
				readreceipt_pending_keys[i].key);
			return -1;
		}
	}
	return 0;
}

int readreceipt_pending_from_json(pool_t pool, const char *json,
				  struct readreceipt_pending *pending_r,
				  const char **error_r)
{
	struct readreceipt_pending_parser parser;
	struct readreceipt_pending pending;
	size_t len = strlen(json);
	int ret;

	i_zero(pending_r);
	if (len > READRECEIPT_PENDING_JSON_MAX) {
		*error_r = t_strdup_printf(
			"Value too large (%zu bytes, at most %u)",
			len, READRECEIPT_PENDING_JSON_MAX);
		return -1;
	}

	i_zero(&pending);
	p_array_init(&pending.to, pool, 4);
	T_BEGIN {
		i_zero(&parser);
		parser.pool = pool;
		parser.start = parser.data = (const unsigned char *)json;
		parser.end = parser.start + len;
		parser.value = t_str_new(128);
		ret = readreceipt_pending_parse(&parser, &pending);
		if (ret < 0)
			*error_r = parser.error;
	} T_END_PASS_STR_IF(ret < 0, error_r);

	if (ret < 0)
		return -1;
	*pending_r = pending;
	return 0;
}

/*
 * Answers and keys
 */

int readreceipt_answer_parse(const char *value,
			     enum readreceipt_answer *answer_r,
			     const char **error_r)
{
	if (value == NULL || strcasecmp(value, "ignore") == 0) {
		*answer_r = READRECEIPT_ANSWER_IGNORE;
		return 0;
	}
	if (strcasecmp(value, "send") == 0) {
		*answer_r = READRECEIPT_ANSWER_SEND;
		return 0;
	}
	/* the value comes from the client and goes back in a NO */
	*error_r = t_strdup_printf("Invalid value \"%s\" for a pending "
		"read receipt: expected \"send\", \"ignore\" or NIL",
		str_sanitize(value, READRECEIPT_PENDING_ERROR_VALUE_MAX_LEN));
	return -1;
}

bool readreceipt_pending_key_parse(const char *key, uint32_t *uid_r)
{
	size_t prefix_len = strlen(READRECEIPT_PENDING_KEY_PREFIX);

	/* IMAP METADATA entry names are case-insensitive; the UID part
	   must be the exact decimal form, so that one message has one
	   key */
	if (strncasecmp(key, READRECEIPT_PENDING_KEY_PREFIX, prefix_len) != 0)
		return FALSE;
	key += prefix_len;
	if (key[0] != '/' || key[1] < '1' || key[1] > '9')
		return FALSE;
	return str_to_uint32(key + 1, uid_r) == 0;
}

const char *readreceipt_pending_key(uint32_t uid)
{
	/* UID 0 does not exist; key_parse() would refuse its key */
	i_assert(uid != 0);
	return t_strdup_printf(READRECEIPT_PENDING_KEY_PREFIX"/%u", uid);
}

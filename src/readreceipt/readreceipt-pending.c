/* Copyright (c) dovecot-readreceipt authors */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "strnum.h"
#include "str-sanitize.h"
#include "unichar.h"
#include "istream.h"
#include "readreceipt-compat.h"
#include "readreceipt-pending.h"

/* The value is written with json_append_escaped() and read with lib's
   JSON parser (through readreceipt-compat.h: lib's json-parser on 2.3,
   lib-json on 2.4). An entry can also be set by anyone who can write the
   attribute dict, so what the parser leaves to its caller is checked
   here: strings must be valid UTF-8 (2.3's parser copies raw bytes), a
   key counts once, the types are right, and nesting is bounded. The
   parser does not recurse; its nesting state grows with the input, which
   is at most READRECEIPT_PENDING_JSON_MAX bytes. This many levels of
   objects and arrays are accepted, the root object being the first. */
#define READRECEIPT_PENDING_JSON_MAX_DEPTH 16

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
	struct readreceipt_json_reader *json;
	struct readreceipt_pending *pending;
	/* the level of the last token: 1 is inside the root object */
	unsigned int depth;
	/* READRECEIPT_PENDING_HAVE_* of the keys seen */
	unsigned int have;
	/* The first error about the content. The whole value is parsed
	   anyway, so that invalid JSON is reported as such. */
	const char *error;
	/* the reader found no more tokens */
	bool end;
};

/*
 * Writing
 */

static void
readreceipt_pending_append_string(string_t *out, const char *value)
{
	str_append_c(out, '"');
	readreceipt_compat_json_append_escaped(out, value);
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

static void ATTR_FORMAT(2, 3)
readreceipt_pending_error(struct readreceipt_pending_parser *parser,
			  const char *fmt, ...)
{
	va_list args;

	if (parser->error != NULL)
		return;
	va_start(args, fmt);
	parser->error = t_strdup_vprintf(fmt, args);
	va_end(args);
}

/* The next token, with the checks lib's parser leaves to its caller.
   FALSE at the end of the input or at invalid JSON, which
   readreceipt_json_reader_deinit() then reports. */
static bool
readreceipt_pending_next(struct readreceipt_pending_parser *parser,
			 enum readreceipt_json_token *type_r,
			 const char **value_r)
{
	if (parser->end)
		return FALSE;
	if (!readreceipt_json_reader_next(parser->json, type_r, value_r)) {
		parser->end = TRUE;
		return FALSE;
	}
	switch (*type_r) {
	case READRECEIPT_JSON_OBJECT:
	case READRECEIPT_JSON_ARRAY:
		if (++parser->depth > READRECEIPT_PENDING_JSON_MAX_DEPTH) {
			readreceipt_pending_error(parser,
				"Nested more than %u levels deep",
				READRECEIPT_PENDING_JSON_MAX_DEPTH);
		}
		break;
	case READRECEIPT_JSON_OBJECT_END:
	case READRECEIPT_JSON_ARRAY_END:
		i_assert(parser->depth > 0);
		parser->depth--;
		break;
	case READRECEIPT_JSON_OBJECT_KEY:
	case READRECEIPT_JSON_STRING:
		if (!uni_utf8_str_is_valid(*value_r)) {
			readreceipt_pending_error(parser,
				"Invalid UTF-8 in the string \"%s\"",
				str_sanitize(*value_r,
				READRECEIPT_PENDING_ERROR_VALUE_MAX_LEN));
		}
		break;
	case READRECEIPT_JSON_NUMBER:
	case READRECEIPT_JSON_TRUE:
	case READRECEIPT_JSON_FALSE:
	case READRECEIPT_JSON_NULL:
		break;
	}
	return TRUE;
}

/* Skip the rest of a value whose first token was type: an unknown key's,
   or one of the wrong type. Every token is still looked at, so that the
   checks above hold for the whole value. */
static void
readreceipt_pending_skip(struct readreceipt_pending_parser *parser,
			 enum readreceipt_json_token type)
{
	unsigned int depth = parser->depth;
	const char *value;

	if (type != READRECEIPT_JSON_OBJECT && type != READRECEIPT_JSON_ARRAY)
		return;
	/* until the end of the container at depth */
	while (parser->depth >= depth &&
	       readreceipt_pending_next(parser, &type, &value)) ;
}

static const char *
readreceipt_pending_string(struct readreceipt_pending_parser *parser,
			   enum readreceipt_json_token type,
			   const char *value, const char *key)
{
	if (type != READRECEIPT_JSON_STRING) {
		readreceipt_pending_error(parser, "\"%s\" is not a string",
					  key);
		readreceipt_pending_skip(parser, type);
		return NULL;
	}
	return p_strdup(parser->pool, value);
}

static void
readreceipt_pending_parse_to(struct readreceipt_pending_parser *parser,
			     enum readreceipt_json_token type)
{
	struct readreceipt_pending *pending = parser->pending;
	const char *value;

	if (type != READRECEIPT_JSON_ARRAY) {
		readreceipt_pending_error(parser, "\"to\" is not an array");
		readreceipt_pending_skip(parser, type);
		return;
	}
	while (readreceipt_pending_next(parser, &type, &value) &&
	       type != READRECEIPT_JSON_ARRAY_END) {
		if (type != READRECEIPT_JSON_STRING) {
			readreceipt_pending_error(parser,
				"\"to\" has an item that is not a string");
			readreceipt_pending_skip(parser, type);
		} else if (value[0] == '\0') {
			/* a normalized address is never empty; an empty one
			   could not be sent to */
			readreceipt_pending_error(parser,
				"\"to\" has an empty address");
		} else {
			value = p_strdup(parser->pool, value);
			array_push_back(&pending->to, &value);
		}
	}
	if (array_count(&pending->to) == 0)
		readreceipt_pending_error(parser, "\"to\" has no address");
}

static void
readreceipt_pending_parse_reason(struct readreceipt_pending_parser *parser,
				 enum readreceipt_json_token type,
				 const char *value)
{
	unsigned int i;

	value = readreceipt_pending_string(parser, type, value, "reason");
	if (value == NULL)
		return;
	for (i = 0; i < N_ELEMENTS(readreceipt_pending_reasons); i++) {
		if (strcmp(value, readreceipt_pending_reasons[i]) == 0) {
			/* the constant, so callers may compare pointers or
			   strings alike */
			parser->pending->reason =
				readreceipt_pending_reasons[i];
			return;
		}
	}
	readreceipt_pending_error(parser, "Unknown \"reason\" \"%s\"",
		str_sanitize(value, READRECEIPT_PENDING_ERROR_VALUE_MAX_LEN));
}

static void
readreceipt_pending_parse_since(struct readreceipt_pending_parser *parser,
				enum readreceipt_json_token type,
				const char *value)
{
	uintmax_t num;
	time_t since;

	/* value is an RFC 8259 number, as the parser read it */
	if (type != READRECEIPT_JSON_NUMBER) {
		readreceipt_pending_error(parser, "\"since\" is not a number");
		readreceipt_pending_skip(parser, type);
		return;
	}
	if (value[0] == '-') {
		readreceipt_pending_error(parser, "\"since\" is negative");
		return;
	}
	if (strpbrk(value, ".eE") != NULL) {
		readreceipt_pending_error(parser,
					  "\"since\" is not an integer");
		return;
	}
	/* out of range also when time_t cannot hold it */
	since = (time_t)-1;
	if (str_to_uintmax(value, &num) == 0) {
		since = (time_t)num;
		if ((uintmax_t)since != num)
			since = (time_t)-1;
	}
	if (since < 0) {
		readreceipt_pending_error(parser,
					  "\"since\" is out of range");
		return;
	}
	parser->pending->since = since;
}

/* After a key of the root object: its value */
static void
readreceipt_pending_parse_member(struct readreceipt_pending_parser *parser,
				 const char *key)
{
	struct readreceipt_pending *pending = parser->pending;
	enum readreceipt_json_token type;
	const char *value;
	unsigned int i, bit = 0;

	if (!readreceipt_pending_next(parser, &type, &value))
		return;
	for (i = 0; i < N_ELEMENTS(readreceipt_pending_keys); i++) {
		if (strcmp(key, readreceipt_pending_keys[i].key) == 0)
			bit = readreceipt_pending_keys[i].bit;
	}
	if (bit == 0) {
		/* unknown keys are ignored */
		readreceipt_pending_skip(parser, type);
		return;
	}
	/* RFC 8259 leaves it to the reader which of two values counts;
	   another reader might pick the other one */
	if ((parser->have & bit) != 0) {
		readreceipt_pending_error(parser, "Duplicate key \"%s\"", key);
		readreceipt_pending_skip(parser, type);
		return;
	}
	parser->have |= bit;

	switch (bit) {
	case READRECEIPT_PENDING_HAVE_TO:
		readreceipt_pending_parse_to(parser, type);
		break;
	case READRECEIPT_PENDING_HAVE_SUBJECT:
		pending->subject = readreceipt_pending_string(parser, type,
							      value, key);
		break;
	case READRECEIPT_PENDING_HAVE_MESSAGE_ID:
		pending->message_id = readreceipt_pending_string(parser, type,
								 value, key);
		break;
	case READRECEIPT_PENDING_HAVE_REASON:
		readreceipt_pending_parse_reason(parser, type, value);
		break;
	case READRECEIPT_PENDING_HAVE_SINCE:
		readreceipt_pending_parse_since(parser, type, value);
		break;
	default:
		i_unreached();
	}
}

static int
readreceipt_pending_parse(struct readreceipt_pending_parser *parser,
			  struct istream *input, const char **error_r)
{
	enum readreceipt_json_token type;
	const char *value, *error;
	bool complete = FALSE;
	unsigned int i;

	parser->json = readreceipt_json_reader_init(input);
	if (readreceipt_pending_next(parser, &type, &value)) {
		if (type != READRECEIPT_JSON_OBJECT) {
			readreceipt_pending_error(parser,
						  "Not a JSON object");
			readreceipt_pending_skip(parser, type);
		} else {
			while (readreceipt_pending_next(parser, &type,
							&value) &&
			       type != READRECEIPT_JSON_OBJECT_END) {
				/* parse_member() reads the values */
				i_assert(type == READRECEIPT_JSON_OBJECT_KEY);
				readreceipt_pending_parse_member(parser,
					t_strdup(value));
			}
		}
		complete = !parser->end;
		/* the parser sees what follows the root value */
		if (readreceipt_pending_next(parser, &type, &value))
			complete = FALSE;
	}
	if (readreceipt_json_reader_deinit(&parser->json, &error) < 0) {
		*error_r = t_strdup_printf("Invalid JSON: %s", error);
		return -1;
	}
	if (!complete) {
		*error_r = "Invalid JSON: Unexpected end of the value";
		return -1;
	}
	if (parser->error != NULL) {
		*error_r = parser->error;
		return -1;
	}
	for (i = 0; i < N_ELEMENTS(readreceipt_pending_keys); i++) {
		if ((parser->have & readreceipt_pending_keys[i].bit) == 0) {
			*error_r = t_strdup_printf("Missing key \"%s\"",
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
	struct istream *input;
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
		parser.pending = &pending;
		input = i_stream_create_from_data(json, len);
		ret = readreceipt_pending_parse(&parser, input, error_r);
		i_stream_unref(&input);
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

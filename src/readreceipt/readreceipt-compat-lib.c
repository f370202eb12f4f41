/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "str.h"
#include "array.h"
#include "istream.h"
#include "rfc822-parser.h"
#include "rfc2231-parser.h"
#include "readreceipt-compat.h"

#if DOVECOT_PREREQ(2, 4, 0)
#  include "str-parse.h"
#  include "json-istream.h"
#  include "json-generator.h"
#else
#  include "settings-parser.h"
#  include "json-parser.h"
#endif

/* The largest value the module reads is a pending entry of at most
   64 kB (READRECEIPT_PENDING_JSON_MAX). lib-json's own limits are set
   above what such an input can reach, so that the reader's caller applies
   its own, with its own words (nesting depth, types). */
#define READRECEIPT_JSON_LIMIT (64 * 1024)

int readreceipt_compat_parse_interval(const char *str, unsigned int *secs_r,
				      const char **error_r)
{
#if DOVECOT_PREREQ(2, 4, 0)
	return str_parse_get_interval(str, secs_r, error_r);
#else
	return settings_get_time(str, secs_r, error_r);
#endif
}

void readreceipt_compat_json_append_escaped(string_t *dest, const char *str)
{
	json_append_escaped(dest, str);
}

int readreceipt_compat_content_params(struct rfc822_parser_context *parser,
				      const char *const **params_r)
{
#if DOVECOT_PREREQ(2, 4, 0)
	ARRAY_TYPE(const_string) params;
	const char *prev_nul_replacement, *key, *value;
	string_t *str = t_str_new(64);
	bool broken = FALSE;
	int ret;

	/* as rfc2231_parse() reads them, without its merging */
	t_array_init(&params, 8);
	prev_nul_replacement = parser->nul_replacement_str;
	parser->nul_replacement_str = RFC822_NUL_REPLACEMENT_STR;
	while ((ret = rfc822_parse_content_param(parser, &key, str)) != 0) {
		if (ret < 0) {
			/* the rest may still be readable */
			broken = TRUE;
			if (parser->data >= parser->end)
				break;
			parser->data++;
			continue;
		}
		value = t_strdup(str_c(str));
		array_push_back(&params, &key);
		array_push_back(&params, &value);
	}
	parser->nul_replacement_str = prev_nul_replacement;
	array_append_zero(&params);
	*params_r = array_front(&params);
	return broken ? -1 : 0;
#else
	return rfc2231_parse(parser, params_r);
#endif
}

#if DOVECOT_PREREQ(2, 4, 0)

struct readreceipt_json_reader {
	struct json_istream *input;
	/* a member whose name was returned, its value not yet */
	struct json_node member;
	bool have_member;
	bool end;
};

struct readreceipt_json_reader *
readreceipt_json_reader_init(struct istream *input)
{
	struct readreceipt_json_reader *reader;
	struct json_limits limits = {
		.max_name_size = READRECEIPT_JSON_LIMIT,
		.max_string_size = READRECEIPT_JSON_LIMIT,
		.max_nesting = READRECEIPT_JSON_LIMIT,
		.max_list_items = READRECEIPT_JSON_LIMIT,
	};

	reader = i_new(struct readreceipt_json_reader, 1);
	/* numbers as written, as 2.3's parser gives them: the caller
	   decides what a number may look like */
	reader->input = json_istream_create(input, JSON_ISTREAM_TYPE_NORMAL,
		&limits, JSON_PARSER_FLAG_NUMBERS_AS_STRING);
	return reader;
}

static void
readreceipt_json_reader_node(const struct json_node *node,
			     enum readreceipt_json_token *token_r,
			     const char **value_r)
{
	*value_r = NULL;
	switch (node->type) {
	case JSON_TYPE_OBJECT:
		*token_r = json_node_is_end(node) ?
			READRECEIPT_JSON_OBJECT_END : READRECEIPT_JSON_OBJECT;
		return;
	case JSON_TYPE_ARRAY:
		*token_r = json_node_is_end(node) ?
			READRECEIPT_JSON_ARRAY_END : READRECEIPT_JSON_ARRAY;
		return;
	case JSON_TYPE_STRING:
		/* without JSON_PARSER_FLAG_STRINGS_ALLOW_NUL a string is
		   always a C string */
		*token_r = READRECEIPT_JSON_STRING;
		*value_r = json_node_get_str(node);
		return;
	case JSON_TYPE_NUMBER:
		*token_r = READRECEIPT_JSON_NUMBER;
		*value_r = json_node_get_str(node);
		return;
	case JSON_TYPE_TRUE:
		*token_r = READRECEIPT_JSON_TRUE;
		return;
	case JSON_TYPE_FALSE:
		*token_r = READRECEIPT_JSON_FALSE;
		return;
	case JSON_TYPE_NULL:
		*token_r = READRECEIPT_JSON_NULL;
		return;
	case JSON_TYPE_NONE:
	case JSON_TYPE_TEXT:
		break;
	}
	i_unreached();
}

bool readreceipt_json_reader_next(struct readreceipt_json_reader *reader,
				  enum readreceipt_json_token *token_r,
				  const char **value_r)
{
	struct json_node node;

	if (reader->have_member) {
		/* the value of the member whose name came last */
		reader->have_member = FALSE;
		readreceipt_json_reader_node(&reader->member, token_r,
					     value_r);
		return TRUE;
	}
	if (reader->end)
		return FALSE;
	/* depth first, each end of an object or array once; the input is in
	   memory, so 0 (more input needed) means it ended too early */
	if (json_istream_walk(reader->input, &node) <= 0) {
		reader->end = TRUE;
		return FALSE;
	}
	if (node.name != NULL && !json_node_is_end(&node)) {
		/* a member: its name first, as 2.3's parser returns it */
		reader->member = node;
		reader->have_member = TRUE;
		*token_r = READRECEIPT_JSON_OBJECT_KEY;
		*value_r = node.name;
		return TRUE;
	}
	readreceipt_json_reader_node(&node, token_r, value_r);
	return TRUE;
}

int readreceipt_json_reader_deinit(struct readreceipt_json_reader **_reader,
				   const char **error_r)
{
	struct readreceipt_json_reader *reader = *_reader;
	const char *error;
	int ret;

	*_reader = NULL;
	ret = json_istream_finish(&reader->input, &error);
	if (ret == 0) {
		/* not possible with all of the input in memory */
		json_istream_destroy(&reader->input);
		error = "Unexpected end of input";
	}
	i_free(reader);
	if (ret <= 0) {
		*error_r = error;
		return -1;
	}
	return 0;
}

#else

struct readreceipt_json_reader {
	struct json_parser *parser;
	bool end;
};

struct readreceipt_json_reader *
readreceipt_json_reader_init(struct istream *input)
{
	struct readreceipt_json_reader *reader;

	reader = i_new(struct readreceipt_json_reader, 1);
	/* With JSON_PARSER_NO_ROOT_OBJECT the parser returns the root
	   object's end too: without it, a value cut inside a string is not
	   reported as invalid. */
	reader->parser = json_parser_init_flags(input,
						JSON_PARSER_NO_ROOT_OBJECT);
	return reader;
}

bool readreceipt_json_reader_next(struct readreceipt_json_reader *reader,
				  enum readreceipt_json_token *token_r,
				  const char **value_r)
{
	enum json_type type;

	if (reader->end)
		return FALSE;
	if (json_parse_next(reader->parser, &type, value_r) <= 0) {
		reader->end = TRUE;
		return FALSE;
	}
	switch (type) {
	case JSON_TYPE_OBJECT_KEY:
		*token_r = READRECEIPT_JSON_OBJECT_KEY;
		break;
	case JSON_TYPE_OBJECT:
		*token_r = READRECEIPT_JSON_OBJECT;
		break;
	case JSON_TYPE_OBJECT_END:
		*token_r = READRECEIPT_JSON_OBJECT_END;
		break;
	case JSON_TYPE_ARRAY:
		*token_r = READRECEIPT_JSON_ARRAY;
		break;
	case JSON_TYPE_ARRAY_END:
		*token_r = READRECEIPT_JSON_ARRAY_END;
		break;
	case JSON_TYPE_STRING:
		*token_r = READRECEIPT_JSON_STRING;
		break;
	case JSON_TYPE_NUMBER:
		*token_r = READRECEIPT_JSON_NUMBER;
		break;
	case JSON_TYPE_TRUE:
		*token_r = READRECEIPT_JSON_TRUE;
		break;
	case JSON_TYPE_FALSE:
		*token_r = READRECEIPT_JSON_FALSE;
		break;
	case JSON_TYPE_NULL:
		*token_r = READRECEIPT_JSON_NULL;
		break;
	}
	return TRUE;
}

int readreceipt_json_reader_deinit(struct readreceipt_json_reader **_reader,
				   const char **error_r)
{
	struct readreceipt_json_reader *reader = *_reader;
	int ret;

	*_reader = NULL;
	ret = json_parser_deinit(&reader->parser, error_r);
	i_free(reader);
	return ret < 0 ? -1 : 0;
}

#endif

/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "istream.h"
#include "istream-concat.h"
#include "message-header-parser.h"
#include "rfc822-parser.h"
#include "rfc2231-parser.h"
#include "submission-readreceipt-header.h"

#define DNT_HEADER "Disposition-Notification-To"

bool submission_readreceipt_content_type_is_receipt(const char *value)
{
	struct rfc822_parser_context parser;
	const char *const *params;
	string_t *type = t_str_new(64);
	bool found = FALSE, ret = FALSE;

	rfc822_parser_init(&parser, (const unsigned char *)value,
			   strlen(value), NULL);
	if (rfc822_parse_content_type(&parser, type) >= 0 &&
	    strcasecmp(str_c(type), "multipart/report") == 0) {
		/* Parameters are read as far as they can be: a report-type
		   next to a syntax error still counts. */
		(void)rfc2231_parse(&parser, &params);
		for (; *params != NULL && !found; params += 2) {
			if (strcasecmp(params[0], "report-type") == 0) {
				found = TRUE;
				ret = strcasecmp(params[1],
					"disposition-notification") == 0;
			}
		}
		/* Without a readable report-type it may be a receipt: the
		   policy applies rather than being bypassed by bad MIME. */
		if (!found)
			ret = TRUE;
	}
	rfc822_parser_deinit(&parser);
	return ret;
}

/* Called when a field ends at offset: records it if it was a
   Disposition-Notification-To. */
static void
header_field_end(struct submission_readreceipt_header *hdr, bool is_dnt,
		 uoff_t start, uoff_t end)
{
	struct submission_readreceipt_range *range;

	if (!is_dnt)
		return;
	if (array_count(&hdr->dnt_fields) >= SUBMISSION_READRECEIPT_DNT_MAX) {
		hdr->dnt_overflow = TRUE;
		return;
	}
	range = array_append_space(&hdr->dnt_fields);
	range->start = start;
	range->end = end;
}

/* The value of a complete field (all its lines). */
static void
header_field_value(struct submission_readreceipt_header *hdr, pool_t pool,
		   const struct message_header_line *line)
{
	const char *value = t_strndup(line->full_value, line->full_value_len);

	if (strcasecmp(line->name, "Content-Type") == 0) {
		if (submission_readreceipt_content_type_is_receipt(value))
			hdr->is_receipt = TRUE;
	} else if (strcasecmp(line->name, "Message-ID") == 0 &&
		   hdr->message_id == NULL) {
		hdr->message_id = p_strdup(pool, t_str_trim(value, " \t"));
	}
}

int
submission_readreceipt_header_read(struct istream *input, pool_t pool,
				   struct submission_readreceipt_header *hdr_r,
				   const char **error_r)
{
	struct message_header_parser_ctx *parser;
	struct message_header_line *line;
	uoff_t field_start = 0;
	bool in_dnt = FALSE, in_field = FALSE, eoh = FALSE;
	int ret = 0;

	i_zero(hdr_r);
	p_array_init(&hdr_r->dnt_fields, pool, 1);

	i_stream_seek(input, 0);
	parser = message_parse_header_init(input, NULL,
		MESSAGE_HEADER_PARSER_FLAG_SKIP_INITIAL_LWSP |
		MESSAGE_HEADER_PARSER_FLAG_CLEAN_ONELINE);
	while (!eoh && (ret = message_parse_header_next(parser, &line)) > 0) {
		if (!line->continued) {
			/* a new field, or the end of the header, ends the
			   last one */
			if (in_field) {
				header_field_end(hdr_r, in_dnt, field_start,
						 line->name_offset);
			}
			in_field = !line->eoh;
			eoh = line->eoh;
			field_start = line->name_offset;
			in_dnt = strcasecmp(line->name, DNT_HEADER) == 0;
		}
		if (line->continues) {
			/* folded, or longer than one piece: the value is
			   complete at the field's last line */
			line->use_full_value = TRUE;
		} else if (in_field) {
			header_field_value(hdr_r, pool, line);
		}
	}
	message_parse_header_deinit(&parser);

	if (input->stream_errno != 0) {
		*error_r = t_strdup_printf("read(%s) failed: %s",
					   i_stream_get_name(input),
					   i_stream_get_error(input));
		return -1;
	}
	if (!eoh && ret == 0) {
		/* the caller gives a stream that has the whole message */
		*error_r = "the message is not available yet";
		return -1;
	}
	if (in_field) {
		/* the message ended inside the header */
		header_field_end(hdr_r, in_dnt, field_start, input->v_offset);
	}
	return 0;
}

struct istream *
submission_readreceipt_strip(struct istream *input,
			     const struct submission_readreceipt_header *hdr,
			     uoff_t *removed_r)
{
	const struct submission_readreceipt_range *range;
	ARRAY(struct istream *) parts;
	struct istream *part, *result;
	uoff_t offset = 0;

	i_assert(!hdr->dnt_overflow);
	i_assert(input->seekable);

	*removed_r = 0;
	t_array_init(&parts, array_count(&hdr->dnt_fields) + 2);
	array_foreach(&hdr->dnt_fields, range) {
		i_assert(range->start >= offset && range->end >= range->start);
		if (range->start > offset) {
			part = i_stream_create_range(input, offset,
						     range->start - offset);
			array_push_back(&parts, &part);
		}
		*removed_r += range->end - range->start;
		offset = range->end;
	}
	part = i_stream_create_range(input, offset, UOFF_T_MAX);
	array_push_back(&parts, &part);
	array_append_zero(&parts);

	result = i_stream_create_concat(array_front_modifiable(&parts));
	i_stream_set_name(result, t_strdup_printf(
		"%s (without Disposition-Notification-To)",
		i_stream_get_name(input)));
	array_foreach_elem(&parts, part) {
		if (part != NULL)
			i_stream_unref(&part);
	}
	return result;
}

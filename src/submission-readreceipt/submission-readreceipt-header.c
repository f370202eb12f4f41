/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "istream.h"
#include "istream-concat.h"
#include "hex-binary.h"
#include "unichar.h"
#include "message-parser.h"
#include "rfc822-parser.h"
#include "readreceipt-compat.h"
#include "submission-readreceipt-header.h"

/* Whether a message is a receipt is read from the MIME structure that
   Dovecot's message parser finds (SPEC §13). The parser never fails on
   broken MIME: it reads a multipart without a usable boundary as one part,
   stops descending at max_nested_mime_parts and stops looking for
   boundaries at max_total_mime_parts (MESSAGE_PART_FLAG_OVERFLOW), takes
   the first Content-Type and the first boundary, and treats a NUL or a
   bare CR as an ordinary byte. Another reader, the recipient's client,
   may read the same bytes as other parts. So each part that is judged
   also records where its bytes leave room for another reading, and a
   message that is no receipt but has such a part is "unparsable": the
   caller holds it to the receipt policy. */

#define DNT_HEADER "Disposition-Notification-To"

/* Why a judged part cannot be read (hdr->unparsable). */
#define PROBLEM_NUL "a Content-Type field holds a NUL byte"
#define PROBLEM_UNREADABLE \
	"the Content-Type of a multipart or message part cannot be read"
#define PROBLEM_CONFLICT "a part has conflicting Content-Type fields"
#define PROBLEM_PARAMS "the parameters of a multipart part cannot be read"
#define PROBLEM_NO_BOUNDARY "a multipart part has no boundary"
#define PROBLEM_EMPTY_BOUNDARY "a multipart part has an empty boundary"
#define PROBLEM_ENCODED_BOUNDARY \
	"a multipart part has an RFC 2231 encoded boundary"
#define PROBLEM_TWO_BOUNDARIES "a multipart part has more than one boundary"
#define PROBLEM_EPILOGUE \
	"a multipart part has more parts after its closing boundary"
#define PROBLEM_NO_PARTS "a multipart part holds no parts"
#define PROBLEM_PART_HEADER "a MIME part's header is too large"
#define PROBLEM_BARE_CR "a header line holds a CR without LF"

/* An epilogue scan in the middle of a line (mime_part_facts.scan_pos) */
#define SCAN_MID_LINE ((size_t)-1)

/* What the Content-Type fields of a judged part say: a part at the top
   level or inside a multipart, not inside a message/rfc822 part. Kept in
   message_part.context; the other parts have none. */
struct mime_part_facts {
	unsigned int content_type_count;
	/* the first Content-Type, the one Dovecot's parser acts on, names a
	   multipart type */
	bool multipart;
	/* the first Content-Type's value, kept when it is a multipart, to
	   compare a repeated field with */
	const unsigned char *first_value;
	size_t first_value_size;
	/* the multipart's boundary; once its parts have begun, its own
	   body is the epilogue, and scan_pos is how much of "--" boundary
	   the epilogue's current line has matched */
	const char *boundary;
	size_t scan_pos;
	bool in_epilogue;
	/* why the part cannot be read, NULL if it can */
	const char *problem;
};

struct mime_context {
	/* the message with a line end after it (see
	   submission_readreceipt_header_read()) */
	struct istream *input;
	/* the size of the message itself */
	uoff_t msg_size;
	struct submission_readreceipt_header *hdr;
	/* hdr's values */
	pool_t pool;
	/* the parser's parts and their facts */
	pool_t parts_pool;

	/* the part whose header is being read, and its facts (NULL if the
	   part is not judged) */
	struct message_part *hdr_part;
	struct mime_part_facts *facts;

	/* the top-level field being read */
	uoff_t field_start;
	bool in_field:1;
	bool in_dnt:1;
	/* the top-level header has been read */
	bool top_done:1;
};

static void
mime_part_problem(struct mime_part_facts *facts, const char *problem)
{
	if (facts->problem == NULL)
		facts->problem = problem;
}

/* How often needle occurs in haystack (both lowercase). */
static unsigned int mime_count(const char *haystack, const char *needle)
{
	unsigned int count = 0;
	size_t len = strlen(needle);

	while ((haystack = strstr(haystack, needle)) != NULL) {
		count++;
		haystack += len;
	}
	return count;
}

static bool mime_type_is_mdn(const char *type)
{
	return strcmp(type, "message/disposition-notification") == 0 ||
		strcmp(type, "message/global-disposition-notification") == 0;
}

static bool mime_report_type_is_mdn(const char *value)
{
	value = t_str_trim(value, " \t");
	return strcasecmp(value, "disposition-notification") == 0 ||
		strcasecmp(value, "global-disposition-notification") == 0;
}

/* RFC 2231 §4: charset'language'%-encoded. Returns 1 and *value_r if the
   value decodes to text this module can compare, 0 if it cannot be
   read. */
static int mime_rfc2231_decode(const char *value, const char **value_r)
{
	const char *charset_end, *p, *charset;
	buffer_t *hex = t_buffer_create(1);
	string_t *str;

	charset_end = strchr(value, '\'');
	if (charset_end == NULL ||
	    (p = strchr(charset_end + 1, '\'')) == NULL)
		return 0;
	/* In another charset (UTF-16, EBCDIC) the same name is other
	   bytes: only ASCII-compatible ones are compared. */
	charset = t_strdup_until(value, charset_end);
	if (charset[0] != '\0' && strcasecmp(charset, "us-ascii") != 0 &&
	    strcasecmp(charset, "utf-8") != 0)
		return 0;

	str = t_str_new(strlen(p));
	for (p++; *p != '\0'; p++) {
		if (*p != '%') {
			str_append_c(str, *p);
			continue;
		}
		buffer_set_used_size(hex, 0);
		if (p[1] == '\0' || p[2] == '\0' ||
		    hex_to_binary(t_strndup(p + 1, 2), hex) < 0 ||
		    *(const unsigned char *)hex->data == '\0')
			return 0;
		str_append_c(str, *(const unsigned char *)hex->data);
		p += 2;
	}
	*value_r = str_c(str);
	return 1;
}

/* A top-level multipart/report: TRUE if a report-type parameter says
   disposition-notification, or if the report-type cannot be read. params
   are readreceipt_compat_content_params()'s; lvalue is the whole field
   value, lowercase. */
static bool
mime_report_is_receipt(const char *const *params, bool broken,
		       const char *lvalue)
{
	const char *decoded;
	unsigned int found = 0;

	for (; *params != NULL; params += 2) {
		const char *key = params[0], *value = params[1];

		if (strcasecmp(key, "report-type") == 0) {
			found++;
			/* a NUL is read as U+FFFD */
			if (strstr(value,
				   UNICODE_REPLACEMENT_CHAR_UTF8) != NULL ||
			    mime_report_type_is_mdn(value))
				return TRUE;
		} else if (strncasecmp(key, "report-type*", 12) == 0) {
			/* RFC 2231: "report-type*" is an encoded value;
			   "report-type*0" left over means a continuation is
			   missing */
			found++;
			if (key[12] != '\0' ||
			    mime_rfc2231_decode(value, &decoded) == 0 ||
			    mime_report_type_is_mdn(decoded))
				return TRUE;
		}
	}
	/* Without a report-type, or where a syntax error may have hidden one
	   (the field mentions more report-types than could be read), it may
	   be a receipt: the policy applies rather than being bypassed by bad
	   MIME. */
	return found == 0 ||
		(broken && mime_count(lvalue, "report-type") != found);
}

/* The boundary of a multipart part, as Dovecot's parser takes it: the
   first "boundary" parameter, RFC 2231 continuations joined. Other
   readers take the last one, or decode "boundary*", or read the
   parameters differently after a syntax error; where that can differ,
   the part cannot be read. */
static void
mime_multipart_boundary(struct mime_part_facts *facts, pool_t pool,
			const char *const *params, bool broken,
			const char *lvalue)
{
	const char *boundary = NULL;
	unsigned int found = 0;

	for (; *params != NULL; params += 2) {
		const char *key = params[0], *value = params[1];

		if (strcasecmp(key, "boundary") == 0) {
			found++;
			if (boundary != NULL && strcmp(boundary, value) != 0)
				mime_part_problem(facts,
						  PROBLEM_TWO_BOUNDARIES);
			if (boundary == NULL)
				boundary = value;
		} else if (strncasecmp(key, "boundary*", 9) == 0) {
			found++;
			mime_part_problem(facts, PROBLEM_ENCODED_BOUNDARY);
		}
	}
	/* A stray ";" is common and harmless; a syntax error that may have
	   swallowed a boundary is not. */
	if (broken && mime_count(lvalue, "boundary") != found)
		mime_part_problem(facts, PROBLEM_PARAMS);
	if (boundary == NULL)
		mime_part_problem(facts, PROBLEM_NO_BOUNDARY);
	else if (boundary[0] == '\0')
		mime_part_problem(facts, PROBLEM_EMPTY_BOUNDARY);
	else
		facts->boundary = p_strdup(pool, boundary);
}

/* Read one Content-Type field of a judged part into facts (top: of the
   top-level part). Returns TRUE if the field alone makes the message a
   receipt. */
static bool
mime_content_type(struct mime_part_facts *facts, pool_t pool, bool top,
		  const unsigned char *value, size_t size)
{
	struct rfc822_parser_context parser;
	const char *const *params;
	const char *lvalue;
	string_t *type = t_str_new(64);
	bool first = facts->content_type_count++ == 0;
	bool has_nul, multipart, broken, ret = FALSE;

	/* Readers differ on what a NUL in a header means (the end of the
	   value, nothing, a character), and so on the part's type. */
	has_nul = memchr(value, '\0', size) != NULL;
	if (has_nul)
		mime_part_problem(facts, PROBLEM_NUL);
	lvalue = t_str_lcase(t_strndup(value, size));

	rfc822_parser_init(&parser, value, size, NULL);
	if (rfc822_parse_content_type(&parser, type) < 0) {
		/* "text/html charset=utf-8" is harmless; a broken value
		   that another reader may take for a multipart or a
		   message/... type is not. */
		if (strstr(lvalue, "multipart") != NULL ||
		    strstr(lvalue, "message") != NULL)
			mime_part_problem(facts, PROBLEM_UNREADABLE);
		rfc822_parser_deinit(&parser);
		return FALSE;
	}
	str_lcase(str_c_modifiable(type));
	multipart = str_begins_with(str_c(type), "multipart/");

	broken = readreceipt_compat_content_params(&parser, &params) < 0;
	if (mime_type_is_mdn(str_c(type)))
		ret = TRUE;
	else if (top && strcmp(str_c(type), "multipart/report") == 0 &&
		 (has_nul || mime_report_is_receipt(params, broken, lvalue)))
		ret = TRUE;

	if (first) {
		facts->multipart = multipart;
		if (multipart) {
			facts->first_value = p_memdup(pool, value, size);
			facts->first_value_size = size;
			mime_multipart_boundary(facts, pool, params, broken,
						lvalue);
		}
	} else if ((multipart || facts->multipart) &&
		   (size != facts->first_value_size ||
		    memcmp(value, facts->first_value, size) != 0)) {
		/* Dovecot's parser takes the first; another reader may take
		   the last, and see other parts. */
		mime_part_problem(facts, PROBLEM_CONFLICT);
	}
	rfc822_parser_deinit(&parser);
	return ret;
}

/* RFC 2046 §5.1.1: nothing after a multipart's close-delimiter is a part,
   and Dovecot's parser reads it as the epilogue. A reader that goes on
   looking for the boundary there would find parts that this judgement
   never saw. */
static void
mime_scan_multipart_body(struct mime_part_facts *facts,
			 const unsigned char *data, size_t size)
{
	size_t boundary_len = strlen(facts->boundary);
	const unsigned char *p = data, *end = data + size;
	unsigned char expected;

	while (p < end && facts->problem == NULL) {
		if (facts->scan_pos == SCAN_MID_LINE) {
			p = memchr(p, '\n', end - p);
			if (p == NULL)
				return;
			facts->scan_pos = 0;
			p++;
			continue;
		}
		expected = facts->scan_pos < 2 ? '-' :
			facts->boundary[facts->scan_pos - 2];
		if (*p != expected) {
			facts->scan_pos = SCAN_MID_LINE;
			continue;
		}
		p++;
		if (++facts->scan_pos == boundary_len + 2)
			mime_part_problem(facts, PROBLEM_EPILOGUE);
	}
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

/* One line of the top-level header (NULL: the header ended). */
static void
mime_top_header_line(struct mime_context *ctx,
		     struct message_header_line *line)
{
	struct submission_readreceipt_header *hdr = ctx->hdr;
	const char *value;

	if (line == NULL) {
		if (ctx->in_field) {
			/* the message ended inside the header: the field
			   ends with it, not with the line end added */
			header_field_end(hdr, ctx->in_dnt, ctx->field_start,
					 I_MIN(ctx->input->v_offset,
					       ctx->msg_size));
		}
		ctx->in_field = FALSE;
		ctx->top_done = TRUE;
		return;
	}
	if (!line->continued) {
		/* a new field, or the end of the header, ends the last one */
		if (ctx->in_field) {
			header_field_end(hdr, ctx->in_dnt, ctx->field_start,
					 line->name_offset);
		}
		ctx->in_field = !line->eoh;
		ctx->field_start = line->name_offset;
		ctx->in_dnt = strcasecmp(line->name, DNT_HEADER) == 0;
	}
	if (line->continues) {
		/* folded, or longer than one piece: the value is complete at
		   the field's last line */
		line->use_full_value = TRUE;
	} else if (ctx->in_field && hdr->message_id == NULL &&
		   strcasecmp(line->name, "Message-ID") == 0) {
		value = t_strndup(line->full_value, line->full_value_len);
		hdr->message_id = p_strdup(ctx->pool, t_str_trim(value, " \t"));
	}
}

/* RFC 5322 §2.2: a header line ends with CRLF. A reader that also ends
   lines at a bare CR would see other fields there (a Content-Type, say)
   than Dovecot's parser, which ends them only at LF. */
static void
mime_header_bare_cr(struct mime_part_facts *facts,
		    const struct message_header_line *line)
{
	if (line->eoh)
		return;
	if (memchr(line->value, '\r', line->value_len) != NULL ||
	    (!line->continued && strchr(line->name, '\r') != NULL))
		mime_part_problem(facts, PROBLEM_BARE_CR);
}

/* One header line of a judged part. */
static void
mime_part_header_line(struct mime_context *ctx, struct message_part *part,
		      struct message_header_line *line)
{
	bool is_receipt;

	if (line->eoh || strcasecmp(line->name, "Content-Type") != 0)
		return;
	if (line->continues) {
		line->use_full_value = TRUE;
		return;
	}
	T_BEGIN {
		is_receipt = mime_content_type(ctx->facts, ctx->parts_pool,
					       part->parent == NULL,
					       line->full_value,
					       line->full_value_len);
	} T_END;
	if (is_receipt)
		ctx->hdr->is_receipt = TRUE;
}

/* A part is judged at the top level and inside multiparts; what is inside
   a message/rfc822 part is a forwarded message. The parent's header has
   been read, so its flags are final. */
static bool mime_part_is_judged(const struct message_part *part)
{
	return part->parent == NULL ||
		(part->parent->context != NULL &&
		 (part->parent->flags & MESSAGE_PART_FLAG_MULTIPART) != 0);
}

static void mime_block(struct mime_context *ctx, struct message_block *block)
{
	struct message_part *part = block->part;
	struct mime_part_facts *facts = part->context;

	if (block->hdr == NULL && block->size > 0) {
		/* body: only a judged multipart's epilogue is of
		   interest */
		if (facts != NULL && facts->in_epilogue &&
		    (part->flags & MESSAGE_PART_FLAG_MULTIPART) != 0)
			mime_scan_multipart_body(facts, block->data,
						 block->size);
		return;
	}

	if (part != ctx->hdr_part) {
		/* a part's header begins: every part has one, read once */
		ctx->hdr_part = part;
		ctx->facts = !mime_part_is_judged(part) ? NULL :
			p_new(ctx->parts_pool, struct mime_part_facts, 1);
		part->context = ctx->facts;
		if (ctx->facts != NULL && part->parent != NULL) {
			/* What comes of the parent's own body after its
			   parts is its epilogue, from the line after the
			   close-delimiter on. */
			facts = part->parent->context;
			facts->in_epilogue = facts->boundary != NULL;
			facts->scan_pos = 0;
		}
	}
	if (part->parent == NULL)
		mime_top_header_line(ctx, block->hdr);
	if (block->hdr != NULL && ctx->facts != NULL) {
		mime_header_bare_cr(ctx->facts, block->hdr);
		mime_part_header_line(ctx, part, block->hdr);
	}
}

/* What the parser's tree says about one judged part, once all is read. */
static const char *
mime_part_judge(const struct message_part *part,
		const struct mime_part_facts *facts)
{
	if (part->header_size.physical_size >
	    SUBMISSION_READRECEIPT_MIME_PART_HEADER_MAX)
		return PROBLEM_PART_HEADER;
	if (facts->problem != NULL)
		return facts->problem;
	if (!facts->multipart)
		return NULL;
	if ((part->flags & MESSAGE_PART_FLAG_OVERFLOW) != 0) {
		/* the parser did not read its parts */
		return t_strdup_printf(
			"multipart parts are nested more than %u deep",
			SUBMISSION_READRECEIPT_MIME_MAX_NESTED - 1);
	}
	/* Nothing legitimate is an empty multipart; a body the parser
	   found no boundary in (a base64-encoded multipart, a boundary
	   that is not the one the body uses) may be read as parts by
	   another reader. */
	if (part->children == NULL)
		return PROBLEM_NO_PARTS;
	return NULL;
}

/* The part after part in the message's order. */
static const struct message_part *
mime_next_part(const struct message_part *part)
{
	if (part->children != NULL)
		return part->children;
	while (part != NULL && part->next == NULL)
		part = part->parent;
	return part == NULL ? NULL : part->next;
}

/* Once the whole message is read, and it is no receipt: can its structure
   be trusted to say so? */
static const char *
mime_judge_structure(const struct message_part *parts)
{
	const struct message_part *part;
	const char *problem = NULL;
	unsigned int count = 0;
	uoff_t headers_size = 0;
	bool overflow = FALSE;

	for (part = parts; part != NULL; part = mime_next_part(part)) {
		count++;
		headers_size += part->header_size.physical_size;
		if ((part->flags & MESSAGE_PART_FLAG_OVERFLOW) != 0)
			overflow = TRUE;
		if (problem == NULL && part->context != NULL)
			problem = mime_part_judge(part, part->context);
	}
	if (overflow && count >= SUBMISSION_READRECEIPT_MIME_MAX_PARTS) {
		/* boundaries after the last part were not looked for */
		return t_strdup_printf(
			"the message has more than %u MIME parts",
			SUBMISSION_READRECEIPT_MIME_MAX_PARTS);
	}
	if (headers_size > SUBMISSION_READRECEIPT_MIME_HEADERS_MAX)
		return "the MIME parts' headers are too large";
	return problem;
}

bool submission_readreceipt_content_type_is_receipt(const char *value)
{
	struct mime_part_facts facts;
	bool ret;

	i_zero(&facts);
	T_BEGIN {
		ret = mime_content_type(&facts, pool_datastack_create(), TRUE,
					(const unsigned char *)value,
					strlen(value));
	} T_END;
	return ret;
}

int
submission_readreceipt_header_read(struct istream *input, pool_t pool,
				   struct submission_readreceipt_header *hdr_r,
				   const char **error_r)
{
	const struct message_parser_settings set = {
		.hdr_flags = MESSAGE_HEADER_PARSER_FLAG_SKIP_INITIAL_LWSP |
			MESSAGE_HEADER_PARSER_FLAG_CLEAN_ONELINE,
		/* multiparts' own text, for mime_scan_multipart_body() */
		.flags = MESSAGE_PARSER_FLAG_INCLUDE_MULTIPART_BLOCKS,
		.max_nested_mime_parts = SUBMISSION_READRECEIPT_MIME_MAX_NESTED,
		.max_total_mime_parts = SUBMISSION_READRECEIPT_MIME_MAX_PARTS,
	};
	struct message_parser_ctx *parser;
	struct message_block block;
	struct message_part *parts;
	struct mime_context ctx;
	struct istream *inputs[3];
	const char *parser_error;
	int ret;

	i_zero(hdr_r);
	p_array_init(&hdr_r->dnt_fields, pool, 1);
	i_zero(&ctx);
	/* Dovecot's header parser hands a field that the stream ends in,
	   without a line end, over only in pieces that continue, never its
	   complete value, when the last piece fills the stream's buffer: a
	   Content-Type there would be missed. A line end after the message
	   completes such a field and changes nothing else a reader sees. */
	i_stream_seek(input, 0);
	if (i_stream_get_size(input, TRUE, &ctx.msg_size) <= 0) {
		*error_r = t_strdup_printf("size of %s unknown: %s",
					   i_stream_get_name(input),
					   i_stream_get_error(input));
		return -1;
	}
	inputs[0] = input;
	inputs[1] = i_stream_create_from_data("\r\n", 2);
	inputs[2] = NULL;
	ctx.input = i_stream_create_concat(inputs);
	i_stream_unref(&inputs[1]);
	/* Dovecot's header parser skips a field whose name (up to the
	   colon, with the blanks an obsolete field may have before it) does
	   not fit in the stream's buffer: "Content-Type", a thousand
	   blanks, ": message/disposition-notification" would pass unseen.
	   With room for the largest part header that is judged at all
	   (a larger one makes the message unreadable), every name fits. */
	i_stream_set_max_buffer_size(ctx.input,
		SUBMISSION_READRECEIPT_MIME_PART_HEADER_MAX + 1024);
	ctx.hdr = hdr_r;
	ctx.pool = pool;
	ctx.parts_pool = pool_alloconly_create(
		MEMPOOL_GROWING"submission readreceipt mime", 4096);

	parser = message_parser_init(ctx.parts_pool, ctx.input, &set);
	while ((ret = message_parser_parse_next_block(parser, &block)) > 0) {
		mime_block(&ctx, &block);
		/* once a receipt, what follows the header changes nothing */
		if (hdr_r->is_receipt && ctx.top_done)
			break;
	}
	if (message_parser_deinit_from_parts(&parser, &parts,
					     &parser_error) < 0) {
		/* only for a parser given the parts of an earlier parse */
		hdr_r->unparsable = p_strdup(pool, parser_error);
	}

	if (ctx.input->stream_errno != 0) {
		*error_r = t_strdup_printf("read(%s) failed: %s",
					   i_stream_get_name(input),
					   i_stream_get_error(ctx.input));
		i_stream_unref(&ctx.input);
		pool_unref(&ctx.parts_pool);
		return -1;
	}
	if (ret == 0) {
		/* the caller gives a stream that has the whole message */
		*error_r = "the message is not available yet";
		i_stream_unref(&ctx.input);
		pool_unref(&ctx.parts_pool);
		return -1;
	}
	if (!ctx.top_done)
		mime_top_header_line(&ctx, NULL);
	i_stream_unref(&ctx.input);
	if (hdr_r->is_receipt)
		hdr_r->unparsable = NULL;
	else if (hdr_r->unparsable == NULL) {
		hdr_r->unparsable =
			p_strdup(pool, mime_judge_structure(parts));
	}
	pool_unref(&ctx.parts_pool);
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

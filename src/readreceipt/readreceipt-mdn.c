/* Copyright (c) dovecot-readreceipt authors */

#include "lib.h"
#include "str.h"
#include "buffer.h"
#include "unichar.h"
#include "istream.h"
#include "istream-header-filter.h"
#include "message-header-parser.h"
#include "rfc822-parser.h"
#include "message-address.h"
#include "message-date.h"
#include "message-header-encode.h"
#include "message-header-decode.h"
#include "qp-encoder.h"
#include "smtp-address.h"
#include "readreceipt-mdn.h"

#include <ctype.h>

/* The receipt is entirely 7-bit (unless the user's or a requester's
   address itself is internationalized, RFC 6532): the Subject is RFC
   2047-encoded, the human-readable part is quoted-printable, and so is the
   optional copy of the original header whenever it holds anything but
   short 7-bit lines.
   Quoted-printable rather than 8bit because the receipt leaves through
   whatever relay the site uses, and neither 8BITMIME support there nor the
   length of the original's lines can be relied on. It also keeps every
   line well below the 998 octet limit of RFC 5322.
   Addresses are written by lib-mail's message-address writer (header) and
   lib-smtp's address writer (envelope), so that a quoted local part
   ("john doe"@example.org) stays quoted. */

/* RFC 5322 §2.1.1: lines SHOULD be at most 78 characters, MUST be at most
   998. Header fields are folded at whitespace beyond the former. */
#define MDN_HEADER_FOLD_LEN 78
#define MDN_LINE_MAX_LEN 998
/* RFC 2045 §6.7: encoded lines are at most 76 characters */
#define MDN_QP_LINE_LEN 76
/* Bound on values copied from the original into one field (msg-id,
   Original-Recipient) or taken from the settings (Reporting-UA), leaving
   room for the field name within MDN_LINE_MAX_LEN. */
#define MDN_FIELD_VALUE_MAX 900
/* Only this much of a raw Subject is decoded: far more than can be left
   after cutting the decoded text to READRECEIPT_MDN_SUBJECT_MAX bytes. */
#define MDN_SUBJECT_RAW_MAX (16 * 1024)
/* RFC 2046 §5.1.1 */
#define MDN_BOUNDARY_MAX_LEN 70

/* Left out of the copy of the original's header, so that nothing that
   reads the receipt carelessly can take it for a new request. Sorted, as
   the header filter wants it. */
static const char *const mdn_orig_header_exclude[] = {
	"Disposition-Notification-To",
};

static inline bool mdn_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static inline bool mdn_is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* ---- subject ---- */

/* Own code: lib-mail decodes the subject (message_header_decode_utf8())
   but has nothing that blanks control characters and line separators and
   cuts at a character boundary. */

/* Returns the length of a character that is shown as whitespace at data:
   C0 and C1 controls, DEL, space, and U+2028/U+2029 (line and paragraph
   separator, which some readers render as line breaks). 0 if it is not
   one. data is valid UTF-8. */
static size_t
mdn_subject_space_len(const unsigned char *data, size_t size)
{
	if (data[0] <= 0x20 || data[0] == 0x7f)
		return 1;
	if (data[0] == 0xc2 && size >= 2 && data[1] >= 0x80 && data[1] <= 0x9f)
		return 2;
	if (data[0] == 0xe2 && size >= 3 && data[1] == 0x80 &&
	    (data[2] == 0xa8 || data[2] == 0xa9))
		return 3;
	return 0;
}

const char *readreceipt_mdn_clean_subject(const char *raw_subject)
{
	buffer_t *decoded, *valid;
	string_t *clean;
	const unsigned char *data;
	size_t raw_size, size, i, n, len;
	bool last_space = TRUE;

	if (raw_subject == NULL)
		return "";

	raw_size = strlen(raw_subject);
	if (raw_size > MDN_SUBJECT_RAW_MAX)
		raw_size = MDN_SUBJECT_RAW_MAX;
	decoded = t_buffer_create(raw_size + 64);
	message_header_decode_utf8((const unsigned char *)raw_subject,
				   raw_size, decoded, NULL);

	/* charsets the decoder could not convert, raw 8-bit headers and
	   decoded bytes can all leave invalid UTF-8 behind */
	valid = t_buffer_create(decoded->used + 16);
	if (uni_utf8_get_valid_data(decoded->data, decoded->used, valid)) {
		data = decoded->data;
		size = decoded->used;
	} else {
		data = valid->data;
		size = valid->used;
	}

	/* Control characters become spaces, and every run of whitespace one
	   space, so that nothing of the original's line structure (folding,
	   CR, LF, TAB) survives. Stop once there is enough to cut. */
	clean = t_str_new(READRECEIPT_MDN_SUBJECT_MAX + 8);
	for (i = 0; i < size && str_len(clean) <= READRECEIPT_MDN_SUBJECT_MAX;
	     i += n) {
		n = mdn_subject_space_len(data + i, size - i);
		if (n > 0) {
			if (!last_space)
				str_append_c(clean, ' ');
			last_space = TRUE;
			continue;
		}
		n = uni_utf8_char_bytes(data[i]);
		if (n > size - i)
			n = size - i;
		str_append_data(clean, data + i, n);
		last_space = FALSE;
	}

	/* cut before the character that crosses the limit: back from the
	   limit over its continuation bytes to its first byte */
	data = str_data(clean);
	len = str_len(clean);
	if (len > READRECEIPT_MDN_SUBJECT_MAX) {
		len = READRECEIPT_MDN_SUBJECT_MAX;
		while (len > 0 && (data[len] & 0xc0) == 0x80)
			len--;
	}
	while (len > 0 && str_data(clean)[len - 1] == ' ')
		len--;
	str_truncate(clean, len);
	return str_c(clean);
}

/* ---- header fields ---- */

/* Own code: lib-mail has no folder for structured fields;
   message_header_encode() folds only between the words it encodes. */

/* Append one physical line of a header field with CRLF, folding it at
   whitespace when it is longer than MDN_HEADER_FOLD_LEN. Folding never
   happens before value_start, and every line keeps at least one
   non-whitespace character (RFC 5322 §3.2.2). A line without whitespace
   to fold at is left long: callers bound what they put in (subject,
   msg-ids and field values are cut, addresses fold between each other).
   Only something absurd, like a single address longer than that, is broken
   hard at MDN_LINE_MAX_LEN, so that the message at least stays valid. */
static void
mdn_append_folded_line(string_t *out, const char *line, size_t len,
		       size_t value_start)
{
	size_t min_pos, pos, limit, fold, indent = 0;

	/* indent: 1 when this function put a space in front of line */
	while (indent + len > MDN_HEADER_FOLD_LEN) {
		min_pos = value_start;
		while (min_pos < len && mdn_is_wsp(line[min_pos]))
			min_pos++;
		limit = MDN_HEADER_FOLD_LEN - indent;

		/* the last whitespace that keeps this line short enough,
		   else the first one that keeps it within the maximum */
		fold = 0;
		for (pos = limit; pos > min_pos; pos--) {
			if (mdn_is_wsp(line[pos])) {
				fold = pos;
				break;
			}
		}
		for (pos = limit + 1; fold == 0 && pos < len &&
		     indent + pos <= MDN_LINE_MAX_LEN; pos++) {
			if (pos > min_pos && mdn_is_wsp(line[pos]))
				fold = pos;
		}
		if (fold == 0) {
			if (indent + len <= MDN_LINE_MAX_LEN)
				break;
			fold = MDN_LINE_MAX_LEN - indent;
		}

		str_append_data(out, line, fold);
		str_append(out, "\r\n");
		line += fold;
		len -= fold;
		value_start = 0;
		if (mdn_is_wsp(line[0]))
			indent = 0;
		else {
			str_append_c(out, ' ');
			indent = 1;
		}
	}
	str_append_data(out, line, len);
	str_append(out, "\r\n");
}

/* Append a complete "Name: value" field. value must be free of control
   characters other than the LF (or CRLF) + WSP folds that
   message_header_encode() produces. */
static void mdn_append_field(string_t *out, const char *field)
{
	const char *p = field, *colon, *nl;
	size_t len, value_start;

	colon = strchr(field, ':');
	i_assert(colon != NULL);
	value_start = colon - field + 1;

	while ((nl = strchr(p, '\n')) != NULL) {
		len = nl - p;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		mdn_append_folded_line(out, p, len, value_start);
		value_start = 0;
		p = nl + 1;
	}
	mdn_append_folded_line(out, p, strlen(p), value_start);
}

/* ---- addresses ---- */

/* Split a normalized address ("local@domain", the local part unquoted) at
   its last '@'. FALSE if there is none. */
static bool
mdn_address_split(const char *addr, const char **local_r,
		  const char **domain_r)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL)
		return FALSE;
	*local_r = t_strdup_until(addr, at);
	*domain_r = at + 1;
	return TRUE;
}

static const char *mdn_without_controls(const char *str)
{
	string_t *out;
	const char *p;

	for (p = str; *p != '\0'; p++) {
		if (mdn_is_ctl(*p))
			break;
	}
	if (*p == '\0')
		return str;
	out = t_str_new(strlen(str));
	for (p = str; *p != '\0'; p++) {
		if (!mdn_is_ctl(*p))
			str_append_c(out, *p);
	}
	return str_c(out);
}

/* A normalized address as lib-mail's struct message_address. Control
   characters (which a quoted-pair of the original may have carried) are
   dropped: inside the quotes the writer adds they would still break the
   header. */
static void
mdn_message_address_init(struct message_address *maddr, const char *addr)
{
	const char *local, *domain;

	if (!mdn_address_split(addr, &local, &domain)) {
		local = addr;
		domain = "";
	}
	message_address_init(maddr, NULL, mdn_without_controls(local),
			     mdn_without_controls(domain));
}

/* An RFC 5322 addr-spec, quoted where it needs it.
   message_address_write() writes an address without a display name as
   "<addr-spec>"; report fields and text want the addr-spec alone. */
static void
mdn_append_addr_spec(string_t *out, const struct message_address *maddr)
{
	string_t *tmp = t_str_new(128);
	const char *data;
	size_t len;

	i_assert(maddr->next == NULL && maddr->name == NULL);
	message_address_write(tmp, maddr);
	data = str_c(tmp);
	len = str_len(tmp);
	if (len >= 2 && data[0] == '<' && data[len - 1] == '>')
		str_append_data(out, data + 1, len - 2);
	else
		str_append_str(out, tmp);
}

static void mdn_append_address(string_t *out, const char *addr)
{
	struct message_address maddr;

	mdn_message_address_init(&maddr, addr);
	mdn_append_addr_spec(out, &maddr);
}

/* The address list of a From or To field */
static void
mdn_append_address_list(string_t *out, const char *const *addrs,
			unsigned int count)
{
	struct message_address *list;
	unsigned int i;

	list = t_new(struct message_address, count);
	for (i = 0; i < count; i++) {
		mdn_message_address_init(&list[i], addrs[i]);
		if (i > 0) {
			list[i].prev = &list[i - 1];
			list[i - 1].next = &list[i];
		}
	}
	message_address_write(out, list);
}

int readreceipt_mdn_smtp_address(pool_t pool, const char *addr,
				 struct smtp_address **smtp_addr_r,
				 const char **error_r)
{
	const char *local, *domain, *path, *p, *error;

	if (!mdn_address_split(addr, &local, &domain) ||
	    local[0] == '\0' || domain[0] == '\0') {
		*error_r = "Not local@domain";
		return -1;
	}
	/* RFC 5321 §4.1.2: a quoted-pair takes only printable ASCII and
	   space; 2.3's SMTP client has no SMTPUTF8 */
	for (p = local; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
			*error_r = "The local part has a character SMTP "
				"cannot carry";
			return -1;
		}
	}
	/* written as the SMTP client will write it, and parsed back: what
	   the parser refuses (a domain that is no domain) the relay would
	   refuse too */
	path = smtp_address_encode_path(smtp_address_create_temp(local,
								 domain));
	if (smtp_address_parse_path(pool, path, 0, smtp_addr_r, &error) < 0) {
		*error_r = t_strdup_printf("Invalid SMTP path %s: %s",
					   path, error);
		return -1;
	}
	return 0;
}

/* ---- values copied from the original ---- */

/* A value copied into a structured field of the report: one line,
   whitespace runs collapsed, trimmed, ASCII only (a non-ASCII character
   becomes '?': RFC 8098 registers message/disposition-notification as
   7bit), at most MDN_FIELD_VALUE_MAX bytes. */
static const char *mdn_sanitize_field_value(const char *value)
{
	string_t *str = t_str_new(128);
	const unsigned char *p;
	bool last_space = TRUE;

	for (p = (const unsigned char *)value;
	     *p != '\0' && str_len(str) < MDN_FIELD_VALUE_MAX; p++) {
		if (*p <= 0x20 || *p == 0x7f) {
			if (!last_space)
				str_append_c(str, ' ');
			last_space = TRUE;
		} else if (*p >= 0x80) {
			/* one '?' per character, not per byte */
			if ((*p & 0xc0) != 0x80)
				str_append_c(str, '?');
			last_space = FALSE;
		} else {
			str_append_c(str, *p);
			last_space = FALSE;
		}
	}
	if (str_len(str) > 0 && str_data(str)[str_len(str) - 1] == ' ')
		str_truncate(str, str_len(str) - 1);
	return str_c(str);
}

/* TRUE if data is an RFC 5322 dot-atom-text of ASCII characters */
static bool mdn_is_dot_atom_text(const char *data, size_t size)
{
	size_t i;

	if (size == 0 || data[0] == '.' || data[size - 1] == '.')
		return FALSE;
	for (i = 0; i < size; i++) {
		if (data[i] == '.') {
			if (data[i - 1] == '.')
				return FALSE;
		} else if ((unsigned char)data[i] >= 0x80 ||
			   !IS_ATEXT(data[i])) {
			return FALSE;
		}
	}
	return TRUE;
}

/* RFC 5322 §3.6.4 msg-id without the angle brackets: id-left "@" id-right,
   id-left a dot-atom-text, id-right a dot-atom-text or a no-fold-literal.
   Only ASCII, and bounded. */
static bool mdn_msgid_is_valid(const char *id)
{
	const char *at = strchr(id, '@');
	const char *right, *p;
	size_t len = strlen(id);

	if (at == NULL || len > MDN_FIELD_VALUE_MAX ||
	    !mdn_is_dot_atom_text(id, at - id))
		return FALSE;
	right = at + 1;
	if (*right != '[')
		return mdn_is_dot_atom_text(right, strlen(right));

	/* no-fold-literal = "[" *dtext "]", dtext = %d33-90 / %d94-126 */
	for (p = right + 1; *p != ']'; p++) {
		if (*p < 33 || *p > 126 || *p == '[' || *p == '\\')
			return FALSE;
	}
	return p[1] == '\0';
}

/* The original's Message-ID as "<id>" when the value is exactly one
   msg-id, with optional CFWS around it; else NULL. Checked here:
   message_id_get_next() takes the first "<...@...>" found anywhere in the
   value, also one inside a quoted string or after other text. */
static const char *mdn_original_msgid(const char *raw)
{
	struct rfc822_parser_context parser;
	const unsigned char *start;
	const char *id = NULL;

	if (raw == NULL)
		return NULL;
	rfc822_parser_init(&parser, (const unsigned char *)raw, strlen(raw),
			   NULL);
	if (rfc822_skip_lwsp(&parser) > 0 && *parser.data == '<') {
		start = ++parser.data;
		while (parser.data < parser.end && *parser.data != '>' &&
		       parser.data - start <= MDN_FIELD_VALUE_MAX)
			parser.data++;
		if (parser.data < parser.end && *parser.data == '>') {
			id = t_strdup_until(start, parser.data);
			parser.data++;
			/* nothing but CFWS after it */
			if (rfc822_skip_lwsp(&parser) != 0 ||
			    !mdn_msgid_is_valid(id))
				id = NULL;
		}
	}
	rfc822_parser_deinit(&parser);
	return id == NULL ? NULL : t_strconcat("<", id, ">", NULL);
}

/* TRUE if str is printable ASCII; space counts only with space */
static bool mdn_is_printable_ascii(const char *str, bool space)
{
	for (; *str != '\0'; str++) {
		if (*str == ' ' ? !space :
		    (unsigned char)*str < 0x21 || (unsigned char)*str > 0x7e)
			return FALSE;
	}
	return TRUE;
}

/* The original's Original-Recipient when it is exactly
   "rfc822" ";" addr-spec (RFC 8098 §3.2.3), with CFWS (folding included)
   around the parts: the address (in *maddr_r) is then written anew.
   Anything else, also another address type, gives FALSE. */
static bool
mdn_original_recipient(const char *raw, struct message_address *maddr_r)
{
	struct rfc822_parser_context parser;
	string_t *type, *local, *domain;
	bool valid = FALSE;
	int ret;

	if (raw == NULL || strlen(raw) > MDN_FIELD_VALUE_MAX)
		return FALSE;
	type = t_str_new(16);
	local = t_str_new(64);
	domain = t_str_new(64);
	rfc822_parser_init(&parser, (const unsigned char *)raw, strlen(raw),
			   NULL);
	if (rfc822_skip_lwsp(&parser) > 0 &&
	    rfc822_parse_atom(&parser, type) > 0 &&
	    strcasecmp(str_c(type), "rfc822") == 0 && *parser.data == ';') {
		parser.data++;
		if (rfc822_skip_lwsp(&parser) <= 0)
			ret = -1;
		else if (*parser.data == '"')
			ret = rfc822_parse_quoted_string(&parser, local);
		else
			ret = rfc822_parse_dot_atom(&parser, local);
		/* the domain, then nothing but CFWS */
		valid = ret > 0 && *parser.data == '@' &&
			rfc822_parse_domain(&parser, domain) == 0;
	}
	rfc822_parser_deinit(&parser);

	/* "rfc822" is an ASCII address (RFC 6533 has "utf-8" for the
	   others); the local part may contain spaces, kept quoted */
	if (!valid || str_len(local) == 0 ||
	    !mdn_is_printable_ascii(str_c(local), TRUE) ||
	    !mdn_is_printable_ascii(str_c(domain), FALSE))
		return FALSE;
	message_address_init(maddr_r, NULL, str_c(local), str_c(domain));
	return TRUE;
}

static bool mdn_boundary_is_valid(const char *boundary)
{
	const char *p;
	size_t len = strlen(boundary);

	/* RFC 2046 §5.1.1 bchars, not ending in space */
	if (len == 0 || len > MDN_BOUNDARY_MAX_LEN ||
	    boundary[len - 1] == ' ')
		return FALSE;
	for (p = boundary; *p != '\0'; p++) {
		if (!i_isalnum(*p) && strchr("'()+_,-./:=? ", *p) == NULL)
			return FALSE;
	}
	return TRUE;
}

static bool mdn_has_control_chars(const char *str)
{
	for (; *str != '\0'; str++) {
		if (mdn_is_ctl(*str))
			return TRUE;
	}
	return FALSE;
}

/* ---- quoted-printable ---- */

/* Text whose lines end in LF or CRLF, quoted-printable through lib-mail's
   encoder, one line at a time for two things the encoder leaves to its
   caller: whitespace at the end of a line is followed by a soft line
   break (RFC 2045 §6.7 (3); the encoder leaves it raw before a line
   break, where transports strip it), and a leading '-' is encoded, so that
   no line of a part starts like a boundary (RFC 2046 §5.1.1). The
   encoder's lines are kept 3 shorter to leave room for that "=2D". */
static void
mdn_qp_append_text(string_t *out, const unsigned char *data, size_t size)
{
	const unsigned char *end = data + size, *line, *nl;
	struct qp_encoder *qp;
	size_t len;

	qp = qp_encoder_init(out, MDN_QP_LINE_LEN - 3, 0);
	while (data < end) {
		nl = memchr(data, '\n', end - data);
		line = data;
		len = (nl == NULL ? end : nl) - line;
		data = nl == NULL ? end : nl + 1;
		if (nl != NULL && len > 0 && line[len - 1] == '\r')
			len--;

		if (len > 0 && line[0] == '-') {
			str_append(out, "=2D");
			line++;
			len--;
		}
		qp_encoder_more(qp, line, len);
		/* a lone '=' at the end is the soft break finish() put after
		   trailing whitespace: an encoded '=' is "=3D" */
		qp_encoder_finish(qp);
		if (str_data(out)[str_len(out) - 1] == '=')
			str_append(out, "\r\n");
		str_append(out, "\r\n");
	}
	qp_encoder_deinit(&qp);
}

/* ---- the parts ---- */

static void
mdn_append_text_part(string_t *out, const struct readreceipt_mdn_input *input,
		     const char *subject)
{
	string_t *text = t_str_new(512);

	str_append(text, "The message sent to ");
	mdn_append_address(text, input->user_email);
	if (*subject == '\0')
		str_append(text, " without a subject");
	else
		str_printfa(text, " with the subject \"%s\"", subject);
	str_append(text, " has been displayed on the recipient's computer.\n"
		   "\n"
		   "This is no guarantee that the message has been read or "
		   "understood.\n");

	str_append(out, "Content-Type: text/plain; charset=utf-8\r\n"
		   "Content-Transfer-Encoding: quoted-printable\r\n"
		   "\r\n");
	mdn_qp_append_text(out, str_data(text), str_len(text));
}

static void
mdn_append_report_part(string_t *out,
		       const struct readreceipt_mdn_input *input,
		       const char *orig_msgid)
{
	struct message_address orig_rcpt;
	const char *value;

	str_append(out, "Content-Type: message/disposition-notification\r\n"
		   "\r\n");

	/* RFC 8098 §3.1 gives the order of the fields */
	if (input->reporting_ua != NULL) {
		value = mdn_sanitize_field_value(input->reporting_ua);
		if (*value != '\0')
			str_printfa(out, "Reporting-UA: %s\r\n", value);
	}
	/* RFC 8098 §3.2.3: copied from the original's header, when it is
	   one the report can carry */
	if (mdn_original_recipient(input->orig_original_recipient,
				   &orig_rcpt)) {
		str_append(out, "Original-Recipient: rfc822; ");
		mdn_append_addr_spec(out, &orig_rcpt);
		str_append(out, "\r\n");
	}
	str_append(out, "Final-Recipient: rfc822; ");
	mdn_append_address(out, input->user_email);
	str_append(out, "\r\n");
	if (orig_msgid != NULL)
		str_printfa(out, "Original-Message-ID: %s\r\n", orig_msgid);
	str_printfa(out, "Disposition: %s; displayed\r\n",
		    input->automatic ?
		    "automatic-action/MDN-sent-automatically" :
		    "manual-action/MDN-sent-manually");
}

/* TRUE if a header line cannot be sent as 7bit as it is */
static bool mdn_line_needs_qp(const unsigned char *data, size_t size)
{
	size_t i;

	if (size > MDN_LINE_MAX_LEN ||
	    (size >= 2 && data[0] == '-' && data[1] == '-'))
		return TRUE;
	for (i = 0; i < size; i++) {
		if (data[i] >= 0x80 || (data[i] < 0x20 && data[i] != '\t'))
			return TRUE;
	}
	return FALSE;
}

static void
mdn_orig_header_filter(struct header_filter_istream *input ATTR_UNUSED,
		       struct message_header_line *hdr, bool *matched,
		       void *context ATTR_UNUSED)
{
	/* the empty line that ends the header is not part of the copy */
	if (hdr != NULL && hdr->eoh)
		*matched = TRUE;
}

/* The original's header through lib-mail's header filter (as lib-lda's
   rejections do it): CRLF line endings, without the fields of
   mdn_orig_header_exclude and without the body, cut at a line boundary to
   READRECEIPT_MDN_HEADERS_MAX. Sets *needs_qp_r if a line is not fit for
   7bit. */
static string_t *
mdn_get_orig_header(const struct readreceipt_mdn_input *input,
		    bool *needs_qp_r)
{
	struct istream *input_data, *filter;
	const unsigned char *data, *p, *nl;
	string_t *hdr;
	size_t size, len, line_start;

	hdr = t_str_new(I_MIN(input->orig_header_size + 64,
			      READRECEIPT_MDN_HEADERS_MAX + 1));
	input_data = i_stream_create_from_data(input->orig_header,
					       input->orig_header_size);
	filter = i_stream_create_header_filter(input_data,
		HEADER_FILTER_EXCLUDE | HEADER_FILTER_HIDE_BODY,
		mdn_orig_header_exclude, N_ELEMENTS(mdn_orig_header_exclude),
		mdn_orig_header_filter, (void *)NULL);
	i_stream_unref(&input_data);
	/* one byte more than the limit tells whether the last line
	   fitted */
	while (str_len(hdr) <= READRECEIPT_MDN_HEADERS_MAX &&
	       i_stream_read_more(filter, &data, &size) > 0) {
		size = I_MIN(size, READRECEIPT_MDN_HEADERS_MAX + 1 -
			     str_len(hdr));
		str_append_data(hdr, data, size);
		i_stream_skip(filter, size);
	}
	/* a memory stream cannot fail to read */
	i_assert(filter->stream_errno == 0);
	i_stream_unref(&filter);

	if (str_len(hdr) > READRECEIPT_MDN_HEADERS_MAX) {
		/* keep the lines that fit completely */
		data = str_data(hdr);
		for (len = READRECEIPT_MDN_HEADERS_MAX;
		     len > 0 && data[len - 1] != '\n'; len--) ;
		str_truncate(hdr, len);
	} else if (str_len(hdr) > 0 &&
		   str_data(hdr)[str_len(hdr) - 1] != '\n') {
		/* the last line had no line break */
		str_append(hdr, "\r\n");
	}

	*needs_qp_r = FALSE;
	data = str_data(hdr);
	for (line_start = 0; line_start < str_len(hdr); ) {
		p = data + line_start;
		nl = memchr(p, '\n', str_len(hdr) - line_start);
		i_assert(nl != NULL);
		len = nl - p;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (mdn_line_needs_qp(p, len))
			*needs_qp_r = TRUE;
		line_start = nl - data + 1;
	}
	return hdr;
}

static void
mdn_append_headers_part(string_t *out, const string_t *hdr, bool needs_qp)
{
	str_append(out, "Content-Type: text/rfc822-headers\r\n");
	if (needs_qp) {
		str_append(out, "Content-Transfer-Encoding: "
			   "quoted-printable\r\n\r\n");
		mdn_qp_append_text(out, str_data(hdr), str_len(hdr));
	} else {
		str_append(out, "\r\n");
		str_append_str(out, hdr);
	}
}

/* ---- the message ---- */

static void
mdn_append_header(string_t *out, const struct readreceipt_mdn_input *input,
		  const char *subject, const char *orig_msgid)
{
	string_t *field = t_str_new(256);
	string_t *encoded = t_str_new(512);

	str_append(field, "From: ");
	mdn_append_address_list(field, &input->user_email, 1);
	mdn_append_field(out, str_c(field));

	/* RFC 8098 §2.1: the receipt goes to the requested addresses */
	str_truncate(field, 0);
	str_append(field, "To: ");
	mdn_append_address_list(field, input->recipients,
				input->recipients_count);
	mdn_append_field(out, str_c(field));

	/* The field name goes through the encoder too, so that it knows
	   the length of the first line. The cleaned subject has no control
	   characters; the encoder adds only LF + TAB folds. */
	str_truncate(field, 0);
	str_append(field, "Subject: Read:");
	if (*subject != '\0') {
		str_append_c(field, ' ');
		str_append(field, subject);
	}
	message_header_encode(str_c(field), encoded);
	mdn_append_field(out, str_c(encoded));

	/* in the process' local time zone */
	str_printfa(out, "Date: %s\r\n", message_date_create(input->date));
	str_printfa(out, "Message-ID: %s\r\n", input->message_id);
	if (orig_msgid != NULL) {
		str_printfa(out, "In-Reply-To: %s\r\n", orig_msgid);
		str_printfa(out, "References: %s\r\n", orig_msgid);
	}
	if (input->automatic) {
		/* RFC 3834 §5: an automatic response to a message */
		str_append(out, "Auto-Submitted: auto-replied\r\n");
	}
	str_append(out, "MIME-Version: 1.0\r\n");
	str_printfa(out, "Content-Type: multipart/report;\r\n"
		    "\treport-type=disposition-notification;\r\n"
		    "\tboundary=\"%s\"\r\n", input->boundary);
}

void readreceipt_mdn_build(const struct readreceipt_mdn_input *input,
			   string_t *out)
{
	const char *subject, *orig_msgid;
	string_t *orig_header = NULL;
	bool headers_need_qp = FALSE;
	unsigned int i;

	i_assert(input->user_email != NULL);
	i_assert(input->recipients_count > 0);
	for (i = 0; i < input->recipients_count; i++)
		i_assert(input->recipients[i] != NULL);
	i_assert(input->message_id != NULL &&
		 input->message_id[0] == '<' &&
		 !mdn_has_control_chars(input->message_id));
	i_assert(input->boundary != NULL &&
		 mdn_boundary_is_valid(input->boundary));

	/* No data stack frame of our own: out may be a data stack string
	   of the caller's frame, which must not grow from an inner frame.
	   Everything allocated here is bounded by the limits above. */
	subject = readreceipt_mdn_clean_subject(input->orig_subject);
	orig_msgid = mdn_original_msgid(input->orig_message_id);
	if (input->include_headers && input->orig_header != NULL) {
		orig_header = mdn_get_orig_header(input, &headers_need_qp);
		if (str_len(orig_header) == 0)
			orig_header = NULL;
	}

	/* RFC 8098 §2.1: never a Disposition-Notification-To here, so that
	   receipts cannot answer each other */
	mdn_append_header(out, input, subject, orig_msgid);
	str_append(out, "\r\nThis is a MIME-encapsulated message.\r\n");

	str_printfa(out, "\r\n--%s\r\n", input->boundary);
	mdn_append_text_part(out, input, subject);

	str_printfa(out, "\r\n--%s\r\n", input->boundary);
	mdn_append_report_part(out, input, orig_msgid);

	if (orig_header != NULL) {
		str_printfa(out, "\r\n--%s\r\n", input->boundary);
		mdn_append_headers_part(out, orig_header, headers_need_qp);
	}
	str_printfa(out, "\r\n--%s--\r\n", input->boundary);
}

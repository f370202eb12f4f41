/* Copyright (c) dovecot-readreceipt authors */

#include "lib.h"
#include "str.h"
#include "buffer.h"
#include "unichar.h"
#include "rfc822-parser.h"
#include "message-header-encode.h"
#include "message-header-decode.h"
#include "message-id.h"
#include "readreceipt-mdn.h"

#include <ctype.h>
#include <time.h>

/* The receipt is entirely 7-bit (unless the user's or a requester's
   address itself is internationalized, RFC 6532): the Subject is RFC
   2047-encoded, the human-readable part is quoted-printable, and so is the
   optional copy of the original header whenever it holds anything but
   short 7-bit lines.
   Quoted-printable rather than 8bit because the receipt leaves through
   whatever relay the site uses, and neither 8BITMIME support there nor the
   length of the original's lines can be relied on. It also keeps every
   line well below the 998 octet limit of RFC 5322. */

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

static const char *const mdn_weekday_names[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const mdn_month_names[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static inline bool mdn_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* ---- subject ---- */

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

/* TRUE if data is an RFC 5322 dot-atom-text; with utf8, non-ASCII
   characters count as atext (RFC 6532 §3.2) */
static bool
mdn_is_dot_atom_text(const char *data, size_t size, bool utf8)
{
	unsigned char c;
	size_t i;

	if (size == 0 || data[0] == '.' || data[size - 1] == '.')
		return FALSE;
	for (i = 0; i < size; i++) {
		c = data[i];
		if (c == '.') {
			if (data[i - 1] == '.')
				return FALSE;
		} else if (c >= 0x80 ? !utf8 : !IS_ATEXT(c)) {
			return FALSE;
		}
	}
	return TRUE;
}

static void
mdn_append_without_controls(string_t *out, const char *data, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if ((unsigned char)data[i] >= 0x20 && data[i] != 0x7f)
			str_append_c(out, data[i]);
	}
}

/* Write a normalized address ("local@domain", local part unquoted) as an
   RFC 5322 addr-spec, quoting the local part where it needs it. */
static void mdn_append_address(string_t *out, const char *addr)
{
	const char *at = strrchr(addr, '@');
	const char *p;

	if (at == NULL) {
		mdn_append_without_controls(out, addr, strlen(addr));
		return;
	}
	if (mdn_is_dot_atom_text(addr, at - addr, TRUE))
		mdn_append_without_controls(out, addr, at - addr);
	else {
		str_append_c(out, '"');
		for (p = addr; p < at; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				continue;
			if (*p == '"' || *p == '\\')
				str_append_c(out, '\\');
			str_append_c(out, *p);
		}
		str_append_c(out, '"');
	}
	mdn_append_without_controls(out, at, strlen(at));
}

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

/* RFC 5322 §3.6.4 msg-id without the angle brackets: id-left "@" id-right,
   id-left a dot-atom-text, id-right a dot-atom-text or a no-fold-literal.
   Only ASCII, and bounded. */
static bool mdn_msgid_is_valid(const char *id)
{
	const char *at = strchr(id, '@');
	const char *right, *p;
	size_t len = strlen(id);

	if (at == NULL || len > MDN_FIELD_VALUE_MAX ||
	    !mdn_is_dot_atom_text(id, at - id, FALSE))
		return FALSE;
	right = at + 1;
	if (*right != '[')
		return mdn_is_dot_atom_text(right, strlen(right), FALSE);

	/* no-fold-literal = "[" *dtext "]", dtext = %d33-90 / %d94-126 */
	for (p = right + 1; *p != ']'; p++) {
		if (*p < 33 || *p > 126 || *p == '[' || *p == '\\')
			return FALSE;
	}
	return p[1] == '\0';
}

/* The original's Message-ID as "<id>", or NULL when it has none that is
   syntactically valid. */
static const char *mdn_original_msgid(const char *raw)
{
	const char *p = raw, *id;

	if (raw == NULL)
		return NULL;
	id = message_id_get_next(&p);
	if (id == NULL || !mdn_msgid_is_valid(id))
		return NULL;
	return t_strconcat("<", id, ">", NULL);
}

static void
mdn_append_date(string_t *out, time_t date, int tz_offset_mins)
{
	const struct tm *tm;
	time_t local_time;
	int offset;
	char sign;

	/* RFC 5322 zone is +/-hhmm */
	i_assert(tz_offset_mins > -24 * 60 && tz_offset_mins < 24 * 60);

	local_time = date + (time_t)tz_offset_mins * 60;
	tm = gmtime(&local_time);
	i_assert(tm != NULL);

	if (tz_offset_mins < 0) {
		sign = '-';
		offset = -tz_offset_mins;
	} else {
		sign = '+';
		offset = tz_offset_mins;
	}
	str_printfa(out, "Date: %s, %02d %s %04d %02d:%02d:%02d %c%02d%02d\r\n",
		    mdn_weekday_names[tm->tm_wday], tm->tm_mday,
		    mdn_month_names[tm->tm_mon], tm->tm_year + 1900,
		    tm->tm_hour, tm->tm_min, tm->tm_sec,
		    sign, offset / 60, offset % 60);
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
		if ((unsigned char)*str < 0x20 || *str == 0x7f)
			return TRUE;
	}
	return FALSE;
}

/* ---- quoted-printable ---- */

static inline bool
mdn_qp_must_encode(unsigned char c, bool line_start, bool line_end)
{
	if (c == ' ' || c == '\t') {
		/* RFC 2045 §6.7 (3): no whitespace at the end of a line */
		return line_end;
	}
	if (c == '=' || c < 0x20 || c >= 0x7f)
		return TRUE;
	/* A line starting with "--" could be taken for a boundary, whatever
	   the original contains. */
	return c == '-' && line_start;
}

/* Encode one line (without its line break) and end it with CRLF. */
static void
mdn_qp_append_line(string_t *out, const unsigned char *data, size_t size)
{
	size_t i, line_len = 0, need;
	bool encode, last;

	for (i = 0; i < size; i++) {
		last = i + 1 == size;
		encode = mdn_qp_must_encode(data[i], line_len == 0, last);
		need = encode ? 3 : 1;
		/* a soft break needs room for its '=' unless this is the
		   line's last character */
		if (line_len + need > MDN_QP_LINE_LEN - (last ? 0 : 1)) {
			str_append(out, "=\r\n");
			line_len = 0;
			encode = mdn_qp_must_encode(data[i], TRUE, last);
			need = encode ? 3 : 1;
		}
		if (encode)
			str_printfa(out, "=%02X", data[i]);
		else
			str_append_c(out, data[i]);
		line_len += need;
	}
	str_append(out, "\r\n");
}

/* Encode text whose lines end in LF or CRLF. */
static void
mdn_qp_append_text(string_t *out, const unsigned char *data, size_t size)
{
	const unsigned char *end = data + size, *nl;
	size_t len;

	while (data < end) {
		nl = memchr(data, '\n', end - data);
		len = (nl == NULL ? end : nl) - data;
		if (nl != NULL && len > 0 && data[len - 1] == '\r')
			len--;
		mdn_qp_append_line(out, data, len);
		data = nl == NULL ? end : nl + 1;
	}
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
	const char *value;

	str_append(out, "Content-Type: message/disposition-notification\r\n"
		   "\r\n");

	/* RFC 8098 §3.1 gives the order of the fields */
	if (input->reporting_ua != NULL) {
		value = mdn_sanitize_field_value(input->reporting_ua);
		if (*value != '\0')
			str_printfa(out, "Reporting-UA: %s\r\n", value);
	}
	if (input->orig_original_recipient != NULL) {
		/* RFC 8098 §3.2.3: the value of the original's header, which
		   is "address-type; generic-address"; a value without the
		   type is taken as an Internet mail address */
		value = mdn_sanitize_field_value(
			input->orig_original_recipient);
		if (*value != '\0') {
			str_printfa(out, "Original-Recipient: %s%s\r\n",
				    strchr(value, ';') == NULL ?
				    "rfc822; " : "", value);
		}
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

/* TRUE if the header line starting at data begins the named field */
static bool
mdn_line_is_field(const unsigned char *data, size_t size, const char *name)
{
	size_t name_len = strlen(name);

	if (size <= name_len || strncasecmp((const char *)data, name,
					    name_len) != 0)
		return FALSE;
	for (data += name_len, size -= name_len; size > 0; data++, size--) {
		if (*data == ':')
			return TRUE;
		if (!mdn_is_wsp(*data))
			return FALSE;
	}
	return FALSE;
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

/* The original's header, CRLF line endings, without its
   Disposition-Notification-To field (so that nothing that reads the
   receipt carelessly can take it for a new request), cut at a line
   boundary to READRECEIPT_MDN_HEADERS_MAX. Returns the text and whether
   it needs quoted-printable. */
static string_t *
mdn_get_orig_header(const struct readreceipt_mdn_input *input,
		    bool *needs_qp_r)
{
	const unsigned char *p = input->orig_header;
	const unsigned char *end = p + input->orig_header_size, *nl;
	string_t *hdr = t_str_new(I_MIN(input->orig_header_size + 64,
					READRECEIPT_MDN_HEADERS_MAX));
	size_t len;
	bool skipping = FALSE;

	*needs_qp_r = FALSE;
	while (p < end) {
		nl = memchr(p, '\n', end - p);
		len = (nl == NULL ? end : nl) - p;
		if (nl != NULL && len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0) {
			/* the empty line that ends the header */
			break;
		}

		if (!mdn_is_wsp(p[0])) {
			skipping = mdn_line_is_field(p, len,
				"Disposition-Notification-To");
		}
		if (!skipping) {
			if (str_len(hdr) + len + 2 >
			    READRECEIPT_MDN_HEADERS_MAX)
				break;
			if (mdn_line_needs_qp(p, len))
				*needs_qp_r = TRUE;
			str_append_data(hdr, p, len);
			str_append(hdr, "\r\n");
		}
		p = nl == NULL ? end : nl + 1;
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
	unsigned int i;

	str_append(field, "From: ");
	mdn_append_address(field, input->user_email);
	mdn_append_field(out, str_c(field));

	/* RFC 8098 §2.1: the receipt goes to the requested addresses */
	str_truncate(field, 0);
	str_append(field, "To: ");
	for (i = 0; i < input->recipients_count; i++) {
		if (i > 0)
			str_append(field, ", ");
		mdn_append_address(field, input->recipients[i]);
	}
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

	mdn_append_date(out, input->date, input->tz_offset_mins);
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

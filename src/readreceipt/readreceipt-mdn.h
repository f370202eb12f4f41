#ifndef READRECEIPT_MDN_H
#define READRECEIPT_MDN_H

/* Builds the RFC 8098 message disposition notification. Pure: all input
   in the struct, the whole message (CRLF line endings) out. */

/* Subjects longer than this (in UTF-8 bytes, after decoding) are cut, so a
   hostile original cannot make the receipt huge. */
#define READRECEIPT_MDN_SUBJECT_MAX 256
/* An original header larger than this is cut at a line boundary in the
   optional text/rfc822-headers part. */
#define READRECEIPT_MDN_HEADERS_MAX (64 * 1024)

struct readreceipt_mdn_input {
	/* the user's address: From and Final-Recipient */
	const char *user_email;
	/* the requested addresses, normalized: To */
	const char *const *recipients;
	unsigned int recipients_count;

	/* raw header values of the original; NULL when absent */
	const char *orig_subject;
	const char *orig_message_id;
	const char *orig_original_recipient;
	/* the original's header block, for include_headers; may be NULL */
	const unsigned char *orig_header;
	size_t orig_header_size;

	/* NULL or "" omits Reporting-UA */
	const char *reporting_ua;
	/* TRUE: automatic-action/MDN-sent-automatically + Auto-Submitted;
	   FALSE: manual-action/MDN-sent-manually */
	bool automatic;
	bool include_headers;

	time_t date;
	int tz_offset_mins;
	/* "<unique@host>" */
	const char *message_id;
	/* MIME boundary, must not occur in the content */
	const char *boundary;
};

/* Append the complete message to out. */
void readreceipt_mdn_build(const struct readreceipt_mdn_input *input,
			   string_t *out);

/* The subject of the original as it appears in the receipt's text: decoded
   to UTF-8, control characters (CR, LF, ...) replaced by spaces, cut to
   READRECEIPT_MDN_SUBJECT_MAX bytes at a character boundary. */
const char *readreceipt_mdn_clean_subject(const char *raw_subject);

#endif

#ifndef READRECEIPT_MDN_H
#define READRECEIPT_MDN_H

struct smtp_address;

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

	/* raw header values of the original; NULL when absent. The
	   Message-ID is used only when it is exactly one msg-id (RFC 5322
	   §3.6.4), the Original-Recipient only when it is
	   "rfc822; addr-spec". */
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

	/* written in the process' local time zone */
	time_t date;
	/* "<unique@host>" */
	const char *message_id;
	/* MIME boundary. It must be one the original's sender cannot know
	   (the sender's contains the mailbox GUID): lines of the parts that
	   start with '-' are encoded, but a quoted-printable soft line break
	   could still put a chosen "--boundary" at the start of a line. */
	const char *boundary;
};

/* Append the complete message to out. Addresses are written with
   lib-mail's message-address writer, quoted where they need it. */
void readreceipt_mdn_build(const struct readreceipt_mdn_input *input,
			   string_t *out);

/* The subject of the original as it appears in the receipt's text: decoded
   to UTF-8, control characters (CR, LF, ...) replaced by spaces, cut to
   READRECEIPT_MDN_SUBJECT_MAX bytes at a character boundary. */
const char *readreceipt_mdn_clean_subject(const char *raw_subject);

/* The SMTP envelope address (RCPT TO) of a normalized address
   ("local@domain", the local part unquoted, split at the last '@'),
   allocated from pool; written on the wire by lib-smtp, quoted where it
   needs it. Returns 0, or -1 with *error_r when SMTP cannot carry it. */
int readreceipt_mdn_smtp_address(pool_t pool, const char *addr,
				 struct smtp_address **smtp_addr_r,
				 const char **error_r);

#endif

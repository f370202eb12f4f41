#ifndef SUBMISSION_READRECEIPT_HEADER_H
#define SUBMISSION_READRECEIPT_HEADER_H

/* What the submission module needs to know about an outgoing message: its
   MIME structure as far as it tells whether the message is a receipt, the
   top-level header fields it acts on, and the message without its
   Disposition-Notification-To fields. Pure: streams in, facts and streams
   out. */

struct istream;

/* A message has one Disposition-Notification-To (RFC 8098 §2.1); more
   than this many are not removed one by one but refused. */
#define SUBMISSION_READRECEIPT_DNT_MAX 100

/* Bounds on the MIME structure that is read (SPEC §13). Real mail nests
   multiparts a few levels deep; the parser compares every line that
   starts with "--" with each open boundary, so a low nesting limit also
   bounds its work per line. The total is Dovecot's own default. A message
   beyond them is unparsable only where the parts left unread could hide a
   receipt: a multipart nested deeper than the limit, or more boundaries
   after the total was reached. A forwarded message/rfc822 nested too deep
   is not looked into anyway. */
#define SUBMISSION_READRECEIPT_MIME_MAX_NESTED 20
#define SUBMISSION_READRECEIPT_MIME_MAX_PARTS 10000
/* Header bytes of one judged part, and of all parts together, beyond
   which the structure is unparsable: Dovecot's parser cuts header values
   past its own limits (10 MB per header, 50 MB in all, in releases with
   the 2024 header limits), and a Content-Type cut short could hide what a
   part is. */
#define SUBMISSION_READRECEIPT_MIME_PART_HEADER_MAX (1024 * 1024)
#define SUBMISSION_READRECEIPT_MIME_HEADERS_MAX (8 * 1024 * 1024)

/* The bytes [start, end) of one header field in the stream, with its
   folded lines and its line end. */
struct submission_readreceipt_range {
	uoff_t start, end;
};
ARRAY_DEFINE_TYPE(submission_readreceipt_range,
		  struct submission_readreceipt_range);

struct submission_readreceipt_header {
	/* The message is a receipt (SPEC §13): its MIME structure, as
	   Dovecot's message parser reads it, holds a
	   message/disposition-notification part (or RFC 6533's
	   message/global-disposition-notification) at the top level or
	   anywhere inside multipart parts, whatever a report-type says; or
	   its top-level Content-Type is multipart/report with a report-type
	   disposition-notification in any instance of the parameter, or
	   with a report-type that cannot be read (a report that cannot be
	   told apart from a receipt is held to the receipt policy).

	   Parts inside a message/rfc822 part are not looked at: a receipt
	   attached as a message is a forward, and the recipient's client
	   shows it as an attachment, not as a receipt for its own mail. */
	bool is_receipt;
	/* When the message is not a receipt: why its MIME structure cannot
	   be read far enough to tell that it is none (e.g. "a multipart part
	   has no boundary"), or NULL if it can. Such a message is held to the
	   receipt policy. */
	const char *unparsable;
	/* the first Message-ID, NULL if none */
	const char *message_id;
	/* every Disposition-Notification-To field, in order, at most
	   SUBMISSION_READRECEIPT_DNT_MAX */
	ARRAY_TYPE(submission_readreceipt_range) dnt_fields;
	/* there were more than SUBMISSION_READRECEIPT_DNT_MAX */
	bool dnt_overflow;
};

/* Read the message that input holds from offset 0: its top-level header,
   and the headers of its MIME parts (bodies are streamed through, not
   kept). input is left somewhere after where reading stopped. Values are
   allocated from pool. Returns 0, or -1 if input failed (*error_r). */
int
submission_readreceipt_header_read(struct istream *input, pool_t pool,
				   struct submission_readreceipt_header *hdr_r,
				   const char **error_r);

/* TRUE if a top-level Content-Type value makes the message a receipt
   whatever its body holds: message/disposition-notification, or a
   multipart/report whose report-type is disposition-notification or
   cannot be read (see is_receipt). */
bool submission_readreceipt_content_type_is_receipt(const char *value);

/* A stream of input without the bytes of hdr's dnt_fields (all of them:
   hdr must not have dnt_overflow); every other byte is unchanged. input
   must be seekable. *removed_r is how many bytes were left out. */
struct istream *
submission_readreceipt_strip(struct istream *input,
			     const struct submission_readreceipt_header *hdr,
			     uoff_t *removed_r);

#endif

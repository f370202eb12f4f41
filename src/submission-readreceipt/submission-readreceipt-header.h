#ifndef SUBMISSION_READRECEIPT_HEADER_H
#define SUBMISSION_READRECEIPT_HEADER_H

/* What the submission module needs to know about an outgoing message's
   header, and the message without its Disposition-Notification-To fields.
   Pure: streams in, facts and streams out. */

struct istream;

/* A message has one Disposition-Notification-To (RFC 8098 §2.1); more
   than this many are not removed one by one but refused. */
#define SUBMISSION_READRECEIPT_DNT_MAX 100

/* The bytes [start, end) of one header field in the stream, with its
   folded lines and its line end. */
struct submission_readreceipt_range {
	uoff_t start, end;
};
ARRAY_DEFINE_TYPE(submission_readreceipt_range,
		  struct submission_readreceipt_range);

struct submission_readreceipt_header {
	/* The message is a receipt: Content-Type multipart/report with
	   report-type disposition-notification, or a multipart/report whose
	   report-type cannot be read (a report that cannot be told apart
	   from a receipt is held to the receipt policy). */
	bool is_receipt;
	/* the first Message-ID, NULL if none */
	const char *message_id;
	/* every Disposition-Notification-To field, in order, at most
	   SUBMISSION_READRECEIPT_DNT_MAX */
	ARRAY_TYPE(submission_readreceipt_range) dnt_fields;
	/* there were more than SUBMISSION_READRECEIPT_DNT_MAX */
	bool dnt_overflow;
};

/* Read the header of the message that input holds from offset 0 (input is
   left somewhere after it). Values are allocated from pool. Returns 0, or
   -1 if input failed (*error_r). */
int
submission_readreceipt_header_read(struct istream *input, pool_t pool,
				   struct submission_readreceipt_header *hdr_r,
				   const char **error_r);

/* TRUE if a Content-Type value makes the message a receipt (see
   is_receipt). */
bool submission_readreceipt_content_type_is_receipt(const char *value);

/* A stream of input without the bytes of hdr's dnt_fields (all of them:
   hdr must not have dnt_overflow); every other byte is unchanged. input
   must be seekable. *removed_r is how many bytes were left out. */
struct istream *
submission_readreceipt_strip(struct istream *input,
			     const struct submission_readreceipt_header *hdr,
			     uoff_t *removed_r);

#endif

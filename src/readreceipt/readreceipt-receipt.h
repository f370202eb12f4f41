#ifndef READRECEIPT_RECEIPT_H
#define READRECEIPT_RECEIPT_H

/* The MDN of one message of a mailbox: what readreceipt-mdn.c builds from
   plain values, filled in from the mailbox (GUID, UIDVALIDITY: the
   receipt's Message-ID and boundary) and the message (its header for
   readreceipt_include_headers). Used where a receipt is claimed: by the
   decision that claims it at once, and by the sender. */

#include "readreceipt-message.h"
#include "readreceipt-policy.h"

struct mail;
struct readreceipt_settings;

/* Append the receipt of mail (already read into minfo, judged into
   verdict) to out. automatic: automatic-action, else manual-action.
   Returns 0, or -1 with *error_r when the mailbox's GUID cannot be
   read. */
int readreceipt_receipt_build(struct mail *mail,
			      const struct readreceipt_settings *set,
			      const struct readreceipt_message_info *minfo,
			      const struct readreceipt_verdict *verdict,
			      bool automatic, string_t *out,
			      const char **error_r);

/* dest (initialized here, from pool) gets a copy of src's addresses; an
   src never created gives an empty dest. */
void readreceipt_receipt_copy_addrs(pool_t pool,
				    ARRAY_TYPE(const_string) *dest,
				    const ARRAY_TYPE(const_string) *src);

#endif

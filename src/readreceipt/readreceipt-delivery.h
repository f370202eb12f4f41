#ifndef READRECEIPT_DELIVERY_H
#define READRECEIPT_DELIVERY_H

/* Delivery-time marking (readreceipt_hide_forbidden): a message that LMTP
   or LDA saves, and whose receipt the policy already forbids, is saved
   with $MDNSent, so that clients which send their own receipts (RFC 3503)
   never offer one. */

struct mailbox;

void readreceipt_delivery_mailbox_allocated(struct mailbox *box);

#endif

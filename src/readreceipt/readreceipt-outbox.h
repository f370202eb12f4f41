#ifndef READRECEIPT_OUTBOX_H
#define READRECEIPT_OUTBOX_H

struct stat;

/* Where owed receipts are kept (SPEC §12): the per-message record in the
   mailbox index, the user's lock that makes deciding and claiming atomic
   across processes, and the list of the user's mailboxes that may hold
   owed receipts, so that a new session finds them without opening every
   mailbox. No network I/O here. */

#include "guid.h"
#include "readreceipt-record.h"

struct file_lock;
struct mail_user;
struct mailbox;
struct mailbox_transaction_context;

ARRAY_DEFINE_TYPE(guid_128, guid_128_t);

/* the lock file's name (in mail_volatile_dir, else the home directory) */
#define READRECEIPT_OUTBOX_LOCK_FNAME "dovecot-readreceipt.lock"
/* the list of mailbox GUIDs (in the INBOX index directory, else home) */
#define READRECEIPT_OUTBOX_HINT_FNAME "dovecot-readreceipt.outbox"
/* how long a process waits for another one's short critical section */
#define READRECEIPT_OUTBOX_LOCK_TIMEOUT_SECS 10

/* The record of seq in the transaction's view (zeroed when none). */
void readreceipt_outbox_get(struct mailbox_transaction_context *t,
			    uint32_t seq, struct readreceipt_record *rec_r);
/* The record of uid as the latest committed index has it (refreshed
   first): the one to trust under the lock. Returns 1, or 0 when the
   message is gone. */
int readreceipt_outbox_get_fresh(struct mailbox *box, uint32_t uid,
				 struct readreceipt_record *rec_r);
/* The same for many UIDs: a view of the latest committed index (refreshed
   first), which stays valid while the caller holds the lock, and the
   record of uid in it. Close the view with mail_index_view_close(). */
struct mail_index_view *readreceipt_outbox_view_fresh(struct mailbox *box);
int readreceipt_outbox_view_get(struct mail_index_view *view,
				struct mailbox *box, uint32_t uid,
				struct readreceipt_record *rec_r);
/* Write the record of seq in t; it is committed with t. */
void readreceipt_outbox_set(struct mailbox_transaction_context *t,
			    uint32_t seq, const struct readreceipt_record *rec);
/* Append the UIDs of box whose receipt is owed or being sent, as the
   latest committed index has them. */
void readreceipt_outbox_owed_uids(struct mailbox *box,
				  ARRAY_TYPE(uint32_t) *uids);

/* The user's lock (lock_method, mail_volatile_dir). Held only around
   short local work, never across network I/O. Returns 1, 0 on timeout,
   -1 on error. */
int readreceipt_outbox_lock(struct mail_user *user, struct file_lock **lock_r,
			    const char **error_r);
void readreceipt_outbox_unlock(struct file_lock **lock);

/* The directory that keeps the user's outbox list and hourly counter:
   the INBOX index directory, else the home directory. */
int readreceipt_outbox_dir(struct mail_user *user, const char **dir_r,
			   const char **error_r);

/* Replace the file at path with data (a temporary file renamed over it),
   under the lock. Returns 0, or -1 with *error_r. */
/* Create the missing directories of path (a file's), mode 0700: a user
   who never logged in has none yet. Returns 0, or -1 with *error_r. */
int readreceipt_outbox_mkdir_parent(const char *path, const char **error_r);
/* Read at most max_size bytes of path into *data_r (data stack, NUL
   terminated). Returns 1, 0 if there is no such file (*data_r = ""), -1
   with *error_r. */
int readreceipt_outbox_read_file(const char *path, size_t max_size,
				 const char **data_r, struct stat *st_r,
				 const char **error_r);
int readreceipt_outbox_write_file(const char *path, const void *data,
				  size_t size, const char **error_r);

/* Append data (one line) to the file at path, creating it, under the
   lock. Returns 0, or -1 with *error_r. */
int readreceipt_outbox_append_file(const char *path, const void *data,
				   size_t size, const char **error_r);

/* Remember that box may hold owed receipts (under the lock). */
int readreceipt_outbox_hint_add(struct mailbox *box, const char **error_r);
/* Forget box (under the lock), when it holds no owed receipt any more. */
int readreceipt_outbox_hint_remove(struct mail_user *user,
				   const guid_128_t guid,
				   const char **error_r);
/* The mailboxes that may hold owed receipts. A missing list is empty. */
int readreceipt_outbox_hint_read(struct mail_user *user,
				 ARRAY_TYPE(guid_128) *guids,
				 const char **error_r);

#endif

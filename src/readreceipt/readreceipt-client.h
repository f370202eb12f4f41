#ifndef READRECEIPT_CLIENT_H
#define READRECEIPT_CLIENT_H

/* Which IMAP clients show their own receipt prompt (SPEC §4 step 4), by
   the name they give in IMAP ID. Pure; exported for the imap module. */

struct readreceipt_settings;

/* RFC 2971 limits an ID field value to 1024 octets: a longer name is not
   a valid ID value and matches nothing. */
#define READRECEIPT_CLIENT_NAME_MAX_LEN 1024

/* TRUE if id_name (the value of the ID "name" field) matches one of the
   readreceipt_prompt_clients globs, case-insensitively. NULL (NIL or no
   "name" field) and "" never match. */
bool readreceipt_client_shows_prompt(const struct readreceipt_settings *set,
				     const char *id_name);

#endif

#ifndef READRECEIPT_ADDRESS_H
#define READRECEIPT_ADDRESS_H

/* Address parsing and matching. Addresses are kept as "local@domain"
   strings: the local part unquoted and as written, the domain lowercased.
   Local parts compare exactly, domains case-insensitively. */

/* Bound on how many addresses one header may yield; the rest is ignored. */
#define READRECEIPT_ADDRESS_MAX_PER_HEADER 100

/* Parse one address ("a@b", "<a@b>", "Name <a@b>", "\"q l\"@b") into
   normalized form. Returns 0 and *addr_r on success, -1 with *error_r if
   it is not exactly one valid address. */
int readreceipt_address_normalize(const char *input, const char **addr_r,
				  const char **error_r);

/* Parse an address-list header value (To, Cc, Disposition-Notification-To)
   and append every valid address in normalized form to addrs. Returns the
   number of valid addresses appended, or -1 if the value contains a syntax
   error (addresses parsed before the error may have been appended). */
int readreceipt_address_parse_list(const char *value,
				   ARRAY_TYPE(const_string) *addrs);

/* Parse a Return-Path value ("<a@b>", "<>" gives ""). Returns 0 on
   success, -1 if invalid. */
int readreceipt_address_parse_path(const char *value, const char **addr_r);

/* The domain part of a normalized address (after the last '@'). */
const char *readreceipt_address_domain(const char *addr);

/* TRUE if two normalized addresses are the same mailbox. */
bool readreceipt_address_equals(const char *addr1, const char *addr2);

/* TRUE if domain matches one of the entries (see
   readreceipt_settings.domains). */
bool readreceipt_domain_matches(const char *domain,
				const ARRAY_TYPE(const_string) *domains);

/* TRUE if addr matches an allow entry: "local@domain" exactly (domain
   case-insensitive), or "@domain" for every address of that domain. */
bool readreceipt_allow_matches(const char *addr,
			       const ARRAY_TYPE(const_string) *allow);

#endif
